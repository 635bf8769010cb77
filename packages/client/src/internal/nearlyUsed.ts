/**
 * `sessionLimitNearlyUsed` (docs/architecture.md, section 5): fires when less than `threshold` of a limit is left,
 * once per change of what is left - a send and a `getSessionState` that read the same state fire once, and a new
 * allowance period (the whole limit back) arms it again.
 */
import type { SessionState } from '../SessionPolicy.js'
import type { SessionSpec, UsageLimit } from '../SessionSpec.js'

type SessionOf = { sessionId: `0x${string}`; account: `0x${string}`; chainId: number; spec: SessionSpec }

export type NearlyUsedEvent = {
  sessionId: `0x${string}`
  account: `0x${string}`
  chainId: number
  limit: string
  remaining: bigint
  total: bigint
}

export function createNearlyUsedNotifier(threshold: number, emit: (event: NearlyUsedEvent) => void) {
  // What each limit had left when the event last fired for it.
  const nearlyUsed = new Map<string, bigint>()
  function emitNearlyUsed(record: SessionOf, state: SessionState) {
    const check = (name: string, limit: UsageLimit, remaining: bigint | undefined) => {
      if (limit.type === 'unlimited' || remaining === undefined || limit.limit === 0n) return
      const key = `${record.chainId}:${record.sessionId}:${name}`
      const share = Number((remaining * 10_000n) / limit.limit) / 10_000
      if (share >= threshold) {
        nearlyUsed.delete(key) // a new period: the next time it runs low fires again
        return
      }
      if (nearlyUsed.get(key) === remaining) return
      nearlyUsed.set(key, remaining)
      emit({
        sessionId: record.sessionId,
        account: record.account,
        chainId: record.chainId,
        limit: name,
        remaining,
        total: limit.limit,
      })
    }
    check('feeLimit', record.spec.feeLimit, state.feeRemaining)
    for (const [i, p] of record.spec.transferPolicies.entries())
      check(`transferPolicies[${i}].valueLimit`, p.valueLimit, state.transferValueRemaining[i])
    for (const [i, p] of record.spec.callPolicies.entries()) {
      check(`callPolicies[${i}].valueLimit`, p.valueLimit, state.callPolicies[i]?.valueRemaining)
      for (const [j, c] of p.constraints.entries())
        check(
          `callPolicies[${i}].constraints[${j}].limit`,
          c.limit,
          state.callPolicies[i]?.constraintRemaining[j],
        )
    }
  }

  return emitNearlyUsed
}

/** The periods (seconds) of the spec's allowances: remaining amounts start afresh when one turns. */
export function allowancePeriods(spec: SessionSpec): number[] {
  const limits: UsageLimit[] = [
    spec.feeLimit,
    ...spec.transferPolicies.map((p) => p.valueLimit),
    ...spec.callPolicies.flatMap((p) => [p.valueLimit, ...p.constraints.map((c) => c.limit)]),
  ]
  return limits.flatMap((limit) => (limit.type === 'allowance' ? [limit.period] : []))
}
