/**
 * Which account each dapp origin connected, kept in this origin's localStorage. The account channel
 * (`public/channel.html`, docs/interfaces.md "Account channel") compares it with the logged-in account, so a dapp
 * learns when the user logs out or switches account here, and only about the account it was given.
 */

/** The storage key of the records, read by `public/channel.html` too. */
export const connectionsKey = 'sso.auth.connections'

export function recordConnection(origin: string, address: string) {
  try {
    const parsed = JSON.parse(localStorage.getItem(connectionsKey) ?? '{}') as unknown
    const records = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
    localStorage.setItem(connectionsKey, JSON.stringify({ ...records, [origin]: address }))
  } catch {
    // Storage denied or full: the dapp then learns of a log-out on its next popup request only.
  }
}
