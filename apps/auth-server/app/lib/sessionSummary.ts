/**
 * The human summary of a session spec the approval screen (`components/session/SessionGrant.vue`) shows: per token
 * (and ETH) the most it can spend over the whole session, and the warnings the user must see before approving.
 */
import type { SessionSpec, UsageLimit } from '@sso/client/session'
import type { Address } from 'viem'

/**
 * The most a limit lets through over the rest of the session: `lifetime` as is, `allowance` multiplied by the
 * number of periods the session touches from `now` to `expiresAt` (periods are aligned on multiples of `period`),
 * `undefined` for `unlimited`.
 *
 * @example
 * ```ts
 * totalOverSession(allowance(10n, 3600), { now: 0, expiresAt: 7200 }) // 30n (periods 0, 1 and 2)
 * ```
 */
export function totalOverSession(
  limit: UsageLimit,
  window: { now: number; expiresAt: number },
): bigint | undefined {
  if (limit.type === 'unlimited') return undefined
  if (limit.type === 'lifetime') return limit.limit
  const first = Math.floor(window.now / limit.period)
  const last = Math.floor(window.expiresAt / limit.period)
  return limit.limit * BigInt(Math.max(1, last - first + 1))
}

/** Well-known token selectors and the argument that carries the amount. */
export const tokenSelectors = {
  transfer: { selector: '0xa9059cbb', amountIndex: 1, recipientIndex: 0 },
  transferFrom: { selector: '0x23b872dd', amountIndex: 2, recipientIndex: 1 },
  approve: { selector: '0x095ea7b3', amountIndex: 1, recipientIndex: 0 },
  increaseAllowance: { selector: '0x39509351', amountIndex: 1, recipientIndex: 0 },
  setApprovalForAll: { selector: '0xa22cb465', amountIndex: -1, recipientIndex: 0 },
  permit: { selector: '0xd505accf', amountIndex: 2, recipientIndex: 1 },
} as const

const approveLike = new Set(['0x095ea7b3', '0x39509351', '0xa22cb465', '0xd505accf'])

/** One line of the popup's spend summary: ETH (`token` undefined) or a token contract. */
export type SpendLine = {
  /** Token contract, or undefined for ETH. */
  token: Address | undefined
  /** The most that can leave the account over the whole session; undefined = no limit. */
  total: bigint | undefined
  /** Where it comes from, e.g. `transfer policy to 0x…`. */
  sources: string[]
}

/** A warning the popup must show; `ack` ones need an explicit checkbox before Approve. */
export type SessionWarning = { kind: 'unlimited' | 'approve' | 'long-expiry'; message: string; ack: boolean }

/**
 * The human summary of a spec: per token (and ETH) the most it can spend over the whole session, and warnings for
 * unlimited limits and `approve`-style policies.
 *
 * @example
 * ```ts
 * const { spend, warnings } = summarizeSession(spec, { now })
 * ```
 */
export function summarizeSession(
  spec: SessionSpec,
  options: { now: number },
): { spend: SpendLine[]; warnings: SessionWarning[] } {
  const window = { now: options.now, expiresAt: spec.expiresAt }
  const lines = new Map<string, SpendLine>()
  const warnings: SessionWarning[] = []
  const add = (token: Address | undefined, amount: bigint | undefined, source: string) => {
    const key = token?.toLowerCase() ?? 'eth'
    const line = lines.get(key) ?? { token, total: 0n, sources: [] }
    line.total = line.total === undefined || amount === undefined ? undefined : line.total + amount
    line.sources.push(source)
    lines.set(key, line)
  }
  for (const p of spec.transferPolicies) {
    const total = totalOverSession(p.valueLimit, window)
    add(undefined, total, `ETH transfers to ${p.target}`)
    if (total === undefined)
      warnings.push({
        kind: 'unlimited',
        message: `ETH transfers to ${p.target} have no total limit.`,
        ack: true,
      })
  }
  for (const p of spec.callPolicies) {
    const sel = p.selector.toLowerCase()
    if (p.maxValuePerUse > 0n) {
      const total = totalOverSession(p.valueLimit, window)
      add(undefined, total, `ETH sent with ${sel} on ${p.target}`)
      if (total === undefined)
        warnings.push({
          kind: 'unlimited',
          message: `ETH sent with calls to ${p.target} has no total limit.`,
          ack: true,
        })
    }
    const token = Object.entries(tokenSelectors).find(([, t]) => t.selector === sel)
    if (token) {
      const [name, info] = token
      const amount = p.constraints.find((c) => c.index === info.amountIndex && c.limit.type !== 'unlimited')
      const capped = p.constraints.find(
        (c) =>
          c.index === info.amountIndex &&
          (c.condition === 'lessOrEqual' || c.condition === 'less' || c.condition === 'equal'),
      )
      const total = amount ? totalOverSession(amount.limit, window) : undefined
      if (!approveLike.has(sel) || name === 'permit') add(p.target, total, `${name} on ${p.target}`)
      if (approveLike.has(sel))
        warnings.push({
          kind: 'approve',
          message: `The app may call ${name} on ${p.target}: whoever is approved can then spend those tokens without any session limit.`,
          ack: true,
        })
      else if (total === undefined && !capped)
        warnings.push({
          kind: 'unlimited',
          message: `${name} on ${p.target} has no limit on the amount.`,
          ack: true,
        })
    }
  }
  if (spec.expiresAt - options.now > 30 * 86_400)
    warnings.push({ kind: 'long-expiry', message: 'The session lasts more than 30 days.', ack: false })
  return { spend: [...lines.values()], warnings }
}
