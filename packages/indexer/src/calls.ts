/**
 * Which calls the history lists (docs/dashboard.md, "History"): the same rule as the auth server's
 * `app/lib/history/entries.ts`, which decodes the rows; the devnet test of both sources holds them together.
 */
import type { Address } from 'viem'

/**
 * A plain successful call with value, not the account's prefund to the EntryPoint (that is gas: its user
 * operation's entry shows the fee).
 */
export function isListedCall(
  call: { type: string; error?: string | undefined; to?: Address | undefined; from: Address; value: bigint },
  account: Address,
  entryPoint: Address,
): boolean {
  if (call.type !== 'call' || call.error || call.value === 0n || !call.to) return false
  const lower = (a: string) => a.toLowerCase()
  return !(lower(call.from) === lower(account) && lower(call.to) === lower(entryPoint))
}
