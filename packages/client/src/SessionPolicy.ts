/**
 * The local policy check: whether calls are within a session's spec (and what remains of its limits on chain),
 * checked exactly as the SessionKeyValidator will, so the client can fall back to the popup or fail before sending.
 */
import { isSessionForbiddenSelector, sessionForbiddenTargets } from '@sso/contracts-abi'
import { type Address, type Hex, maxUint256 } from 'viem'
import { RpcError, type RpcErrorOptions } from './Errors.js'
import type { Condition, SessionSpec, UsageLimit } from './SessionSpec.js'

/** Which session rule a call breaks (mirrors the SessionKeyValidator errors). */
export type SessionPolicyRule =
  | 'session-expired'
  | 'session-revoked'
  | 'session-not-active'
  | 'banned-target'
  | 'forbidden-selector'
  | 'invalid-calldata'
  | 'no-transfer-policy'
  | 'no-call-policy'
  | 'value-per-use-exceeded'
  | 'value-limit-exceeded'
  | 'constraint-violated'
  | 'constraint-out-of-bounds'
  | 'constraint-limit-exceeded'
  | 'fee-limit-exceeded'

/**
 * A call the session may not make: the rule, a sentence naming it, and where (`callIndex`); for a limit, which
 * policy (`transfer` / `call` and its index, `constraint` the index within the call policy), the amount the call
 * needs and what was left - so a screen can say it in the token's units.
 */
export type SessionPolicyViolation = {
  rule: SessionPolicyRule
  message: string
  callIndex?: number | undefined
  policy?: { kind: 'transfer' | 'call'; index: number; constraint?: number | undefined } | undefined
  amount?: bigint | undefined
  left?: bigint | undefined
}

/**
 * A transaction is outside the session's policy and the provider is configured with `onOutOfPolicy: 'fail'`
 * (or the popup fallback is unavailable). Code 4100 (not authorized); `rule` names the broken rule.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof SessionPolicyError) console.log(e.rule) } // 'value-limit-exceeded'
 * ```
 */
export class SessionPolicyError extends RpcError {
  override name = 'SessionPolicyError'
  readonly rule: SessionPolicyRule
  constructor(violation: SessionPolicyViolation, options: RpcErrorOptions = {}) {
    super(4100, `Outside the session policy (${violation.rule}): ${violation.message}`, {
      ...options,
      data: { reason: 'session_policy', rule: violation.rule, callIndex: violation.callIndex },
    })
    this.rule = violation.rule
  }
}

/** Session status as the validator reports it. */
export type SessionStatus = 'none' | 'active' | 'expired' | 'revoked'

/** What `SessionKeyValidator.sessionState` returns (remaining amounts in the current period). */
export type SessionState = {
  status: SessionStatus
  feeRemaining: bigint
  callPolicies: readonly { valueRemaining: bigint; constraintRemaining: readonly bigint[] }[]
  transferValueRemaining: readonly bigint[]
}

/** A call as the account executes it. */
export type SessionCall = { to: Address; data?: Hex | undefined; value?: bigint | undefined }

/**
 * Checks calls against the spec (and, when given, the on-chain remaining limits) exactly as the validator will,
 * so the client can fall back or fail BEFORE sending. Returns the first violation, or undefined when in policy.
 *
 * @example
 * ```ts
 * const violation = checkSessionCalls(spec, calls, { account, state, now })
 * if (violation) throw new SessionPolicyError(violation)
 * ```
 */
export function checkSessionCalls(
  spec: SessionSpec,
  calls: readonly SessionCall[],
  options: {
    account: Address
    /** On-chain remaining amounts (`sessionState`); without it only the spec is checked. */
    state?: SessionState | undefined
    now?: number | undefined
    /** The account's modules (`sessionAccountModules` of `@sso/contracts-abi`), as for `validateSessionSpec`. */
    bannedTargets?: readonly Address[] | undefined
    /** The most the userOp can cost the account (0 or undefined with a paymaster). */
    fee?: bigint | undefined
  },
): SessionPolicyViolation | undefined {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const { state } = options
  if (state?.status === 'revoked') return { rule: 'session-revoked', message: 'the session was revoked' }
  if (state?.status === 'none')
    return { rule: 'session-not-active', message: 'the session does not exist on chain' }
  if (now > spec.expiresAt || state?.status === 'expired')
    return {
      rule: 'session-expired',
      message: `the session expired at ${new Date(spec.expiresAt * 1000).toISOString()}`,
    }
  if (options.fee !== undefined && options.fee > 0n && state && options.fee > state.feeRemaining)
    return {
      rule: 'fee-limit-exceeded',
      message: `the fee of up to ${options.fee} wei exceeds what remains of the fee limit (${state.feeRemaining})`,
      amount: options.fee,
      left: state.feeRemaining,
    }

  const banned = new Set(
    sessionForbiddenTargets({ account: options.account, modules: options.bannedTargets }).map((target) =>
      target.address.toLowerCase(),
    ),
  )
  // Amounts counted within this batch, as the validator counts them one call after the other.
  const used = new Map<string, bigint>()
  const consume = (key: string, remaining: bigint | undefined, limit: UsageLimit, amount: bigint) => {
    if (limit.type === 'unlimited' || amount === 0n) return { ok: true, left: maxUint256 }
    const start = remaining ?? limit.limit
    const left = start - (used.get(key) ?? 0n)
    if (amount > left) return { ok: false, left }
    used.set(key, (used.get(key) ?? 0n) + amount)
    return { ok: true, left }
  }

  for (const [callIndex, call] of calls.entries()) {
    const data = call.data ?? '0x'
    const value = call.value ?? 0n
    const v = (
      rule: SessionPolicyRule,
      message: string,
      detail: Pick<SessionPolicyViolation, 'policy' | 'amount' | 'left'> = {},
    ): SessionPolicyViolation => ({ rule, message, callIndex, ...detail })
    if (banned.has(call.to.toLowerCase())) return v('banned-target', `a session may not call ${call.to}`)
    const dataLength = (data.length - 2) / 2
    if (dataLength === 0) {
      const index = spec.transferPolicies.findIndex((p) => p.target.toLowerCase() === call.to.toLowerCase())
      const policy = spec.transferPolicies[index]
      if (!policy) return v('no-transfer-policy', `no transfer policy allows sending ETH to ${call.to}`)
      if (value > policy.maxValuePerUse)
        return v(
          'value-per-use-exceeded',
          `${value} wei to ${call.to} is more than ${policy.maxValuePerUse} per transfer`,
          { policy: { kind: 'transfer', index }, amount: value, left: policy.maxValuePerUse },
        )
      const r = consume(`t${index}`, state?.transferValueRemaining[index], policy.valueLimit, value)
      if (!r.ok)
        return v(
          'value-limit-exceeded',
          `${value} wei to ${call.to} is more than the ${r.left} wei left of its limit`,
          { policy: { kind: 'transfer', index }, amount: value, left: r.left },
        )
      continue
    }
    if (dataLength < 4) return v('invalid-calldata', `calldata to ${call.to} is shorter than a selector`)
    const selector = data.slice(0, 10).toLowerCase()
    if (isSessionForbiddenSelector(selector)) return v('forbidden-selector', `${selector} is forbidden`)
    const index = spec.callPolicies.findIndex(
      (p) => p.target.toLowerCase() === call.to.toLowerCase() && p.selector.toLowerCase() === selector,
    )
    const policy = spec.callPolicies[index]
    if (!policy) return v('no-call-policy', `no call policy allows ${selector} on ${call.to}`)
    if (value > policy.maxValuePerUse)
      return v(
        'value-per-use-exceeded',
        `${value} wei is more than ${policy.maxValuePerUse} per call of ${selector}`,
        { policy: { kind: 'call', index }, amount: value, left: policy.maxValuePerUse },
      )
    const rv = consume(`c${index}`, state?.callPolicies[index]?.valueRemaining, policy.valueLimit, value)
    if (!rv.ok)
      return v('value-limit-exceeded', `${value} wei is more than the ${rv.left} wei left for ${selector}`, {
        policy: { kind: 'call', index },
        amount: value,
        left: rv.left,
      })
    for (const [j, c] of policy.constraints.entries()) {
      const start = 10 + 64 * c.index
      if (data.length < start + 64)
        return v('constraint-out-of-bounds', `argument word ${c.index} of ${selector} is missing`, {
          policy: { kind: 'call', index, constraint: j },
        })
      const word = BigInt(`0x${data.slice(start, start + 64)}`)
      const ref = BigInt(c.refValue)
      if (!holds(c.condition, word, ref))
        return v(
          'constraint-violated',
          `argument ${c.index} of ${selector} must be ${c.condition} ${c.refValue} (is 0x${word.toString(16)})`,
          { policy: { kind: 'call', index, constraint: j }, amount: word },
        )
      const rc = consume(`c${index}.${j}`, state?.callPolicies[index]?.constraintRemaining[j], c.limit, word)
      if (!rc.ok)
        return v(
          'constraint-limit-exceeded',
          `argument ${c.index} of ${selector} adds up to more than the ${rc.left} left of its limit (wants ${word})`,
          { policy: { kind: 'call', index, constraint: j }, amount: word, left: rc.left },
        )
    }
  }
  return undefined
}

function holds(condition: Condition, word: bigint, ref: bigint): boolean {
  switch (condition) {
    case 'unconstrained':
      return true
    case 'equal':
      return word === ref
    case 'notEqual':
      return word !== ref
    case 'greater':
      return word > ref
    case 'greaterOrEqual':
      return word >= ref
    case 'less':
      return word < ref
    case 'lessOrEqual':
      return word <= ref
  }
}
