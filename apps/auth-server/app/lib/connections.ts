/**
 * Which account each dapp origin connected, kept in this origin's localStorage. The account channel
 * (`public/channel.html`, docs/interfaces.md "Account channel") compares it with the logged-in account, so a dapp
 * learns when the user logs out or switches account here, and only about the account it was given.
 */

/** The storage key of the records, read by `public/channel.html` too. */
export const connectionsKey = 'sso.auth.connections'

/** Origins disconnected in the dashboard, with the account they had: the channel tells them it is gone. */
export const disconnectedKey = 'sso.auth.disconnected'

export function recordConnection(origin: string, address: string) {
  try {
    // Connecting again undoes a disconnect.
    const disconnected = readRecords(disconnectedKey)
    if (origin in disconnected) {
      delete disconnected[origin]
      localStorage.setItem(disconnectedKey, JSON.stringify(disconnected))
    }
    const parsed = JSON.parse(localStorage.getItem(connectionsKey) ?? '{}') as unknown
    const records = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
    localStorage.setItem(connectionsKey, JSON.stringify({ ...records, [origin]: address }))
  } catch {
    // Storage denied or full: the dapp then learns of a log-out on its next popup request only.
  }
}

/**
 * Disconnects `origin` from the account it connected: its channel page then reports `logged-out` for that
 * account, so the dapp forgets it at once (docs/interfaces.md, "Account channel"), until it connects again.
 */
export function disconnectApp(origin: string) {
  try {
    const address = readRecords(connectionsKey)[origin]
    if (!address) return
    localStorage.setItem(
      disconnectedKey,
      JSON.stringify({ ...readRecords(disconnectedKey), [origin]: address }),
    )
  } catch {
    // Storage denied: the dapp learns on its next popup request only.
  }
}

function readRecords(key: string): Record<string, string> {
  const parsed = JSON.parse(localStorage.getItem(key) ?? '{}') as unknown
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
}
