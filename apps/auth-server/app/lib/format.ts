/**
 * How the dashboard writes amounts, addresses and times (docs/dashboard.md): amounts with the token's decimals,
 * thousands separators and at most a few fraction digits (rounded toward zero, and never shown as 0 when they
 * are not), addresses shortened in lists, times relative to now.
 */
import { formatUnits } from 'viem'

/**
 * `value` (in the token's smallest unit) as text with `symbol`: `1,234.5678 DUSD`. At most `maxFraction` fraction
 * digits, cut (never rounded up: a balance is never overstated); a positive amount below the smallest shown digit
 * is `< 0.000001 ETH`.
 *
 * @example
 * ```ts
 * formatAmount(1_234_567_800n, 6, 'DUSD') // '1,234.5678 DUSD'
 * ```
 */
export function formatAmount(value: bigint, decimals: number, symbol: string, maxFraction = 6): string {
  const negative = value < 0n
  const abs = negative ? -value : value
  const [whole = '0', fraction = ''] = formatUnits(abs, decimals).split('.')
  const cut = fraction.slice(0, maxFraction).replace(/0+$/, '')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  if (abs > 0n && whole === '0' && cut === '') {
    const smallest = maxFraction > 0 ? `0.${'0'.repeat(maxFraction - 1)}1` : '1'
    return `${negative ? '> -' : '< '}${smallest} ${symbol}`.trim()
  }
  return `${negative ? '-' : ''}${grouped}${cut ? `.${cut}` : ''} ${symbol}`.trim()
}

/** `0x1234…abcd`: an address or hash shortened for a list (the full value stays in the title and on copy). */
export function shortHex(value: string, head = 6, tail = 4): string {
  return value.length > head + tail + 1 ? `${value.slice(0, head)}…${value.slice(-tail)}` : value
}

/**
 * A duration in words, largest unit first, at most two units: `1 h 5 min`, `3 days 2 h`, `45 s`.
 *
 * @example
 * ```ts
 * formatDuration(3_900) // '1 h 5 min'
 * ```
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'h'],
    [60, 'min'],
    [1, 's'],
  ]
  const parts: string[] = []
  let rest = s
  for (const [size, name] of units) {
    const count = Math.floor(rest / size)
    if (count === 0) continue
    parts.push(name === 'day' ? `${count} day${count === 1 ? '' : 's'}` : `${count} ${name}`)
    rest -= count * size
    if (parts.length === 2) break
  }
  return parts.length ? parts.join(' ') : '0 s'
}

/**
 * A time relative to `now` (both in seconds): `in 5 min`, `3 h ago`, `just now`.
 *
 * @example
 * ```ts
 * formatRelative(100, 160) // '1 min ago'
 * ```
 */
export function formatRelative(time: number, now: number): string {
  const delta = time - now
  if (Math.abs(delta) < 5) return 'just now'
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`
}

/** A date and time for the title of a relative time (the user's locale). */
export function formatDateTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
