/**
 * The rules a session spec must follow: those of `SessionKeyValidator.createSession` and a few of the client's own
 * (a policy must allow something bounded). The client runs them before sending, the popup again before showing.
 */
import {
  isSessionForbiddenSelector,
  sessionForbiddenSelectors,
  sessionForbiddenTargets,
  sessionSpecBounds,
} from '@sso/contracts-abi'
import { type Address, type Hex, isAddress, zeroAddress } from 'viem'
import {
  conditions,
  InvalidSessionSpecError,
  type SessionSpec,
  type SessionSpecRule,
  type UsageLimit,
} from './SessionSpec.js'
import { encodeSessionSpec } from './SessionSpecEncoding.js'

const p256P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const p256B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn

const {
  maxCallPolicies,
  maxTransferPolicies,
  maxConstraints,
  maxConstraintIndex,
  maxUsageLimit,
  maxFeeLimit,
  maxAllowancePeriod,
  maxExpiresAt,
  maxPackedLength,
} = sessionSpecBounds

/**
 * The selectors a session may never call (module install/uninstall, upgrades): the SessionKeyValidator's
 * `forbiddenSelectors()`, from `sessionForbiddenSelectors` of `@sso/contracts-abi`.
 */
export const forbiddenSelectors: readonly Hex[] = sessionForbiddenSelectors.map((entry) => entry.selector)

export type ValidateSessionSpecOptions = {
  /** Current time in unix seconds (default: the system clock; pass the chain's latest block time when known). */
  now?: number | undefined
  /** The account the session is for: a session may never call it. */
  account?: Address | undefined
  /**
   * The account's modules, which a session may never call besides the account and the EntryPoint:
   * `sessionAccountModules(contracts)` of `@sso/contracts-abi` (SessionKeyValidator, WebAuthnValidator,
   * GuardianExecutor) and any other module the account installed.
   */
  bannedTargets?: readonly Address[] | undefined
}

/**
 * Checks a spec against the rules of `SessionKeyValidator.createSession` (and a few of its own: a policy must allow
 * something bounded). Throws {@link InvalidSessionSpecError} naming the rule; returns the spec otherwise.
 *
 * @example
 * ```ts
 * validateSessionSpec(spec, { account, bannedTargets: sessionAccountModules(contracts) })
 * ```
 */
export function validateSessionSpec(
  spec: SessionSpec,
  options: ValidateSessionSpecOptions = {},
): SessionSpec {
  const fail = (rule: SessionSpecRule, path: string, message: string): never => {
    throw new InvalidSessionSpecError(rule, path, message)
  }
  if (typeof spec !== 'object' || spec === null) return fail('malformed-policy', 'spec', 'not an object')
  const now = options.now ?? Math.floor(Date.now() / 1000)
  checkSigner(spec.signer, fail)
  if (!Number.isSafeInteger(spec.expiresAt) || spec.expiresAt > maxExpiresAt)
    fail('malformed-policy', 'expiresAt', 'must be unix seconds (uint48)')
  if (spec.expiresAt <= now)
    fail('expiry-in-past', 'expiresAt', `${spec.expiresAt} is not after the current time ${now}`)
  if (spec.feeLimit?.type === 'unlimited')
    fail(
      'unlimited-fee-limit',
      'feeLimit',
      'the fee limit may not be unlimited (the key could burn the account’s ETH)',
    )
  checkLimit(spec.feeLimit, maxFeeLimit, 'feeLimit', fail)

  const banned = new Map<string, string>()
  for (const { address, what } of sessionForbiddenTargets({
    account: options.account,
    modules: options.bannedTargets,
  }))
    banned.set(address.toLowerCase(), what)
  const checkTarget = (target: Address, path: string) => {
    if (typeof target !== 'string' || !isAddress(target, { strict: false }))
      fail('malformed-policy', path, `${String(target)} is not an address`)
    if (target.toLowerCase() === zeroAddress)
      fail('malformed-policy', path, 'the zero address is not a target')
    const what = banned.get(target.toLowerCase())
    if (what) fail('banned-target', path, `a session may not call ${what} (${target})`)
  }

  if (!Array.isArray(spec.callPolicies) || !Array.isArray(spec.transferPolicies))
    fail('malformed-policy', 'spec', 'callPolicies and transferPolicies must be arrays')
  if (spec.callPolicies.length + spec.transferPolicies.length === 0)
    fail('malformed-policy', 'spec', 'a session needs at least one call or transfer policy')
  if (spec.callPolicies.length > maxCallPolicies)
    fail('malformed-policy', 'callPolicies', `at most ${maxCallPolicies} call policies`)
  if (spec.transferPolicies.length > maxTransferPolicies)
    fail('malformed-policy', 'transferPolicies', `at most ${maxTransferPolicies} transfer policies`)

  const seenCalls = new Set<string>()
  spec.callPolicies.forEach((policy, i) => {
    const path = `callPolicies[${i}]`
    checkTarget(policy.target, `${path}.target`)
    if (typeof policy.selector !== 'string' || !/^0x[0-9a-fA-F]{8}$/.test(policy.selector))
      fail('malformed-policy', `${path}.selector`, 'must be a 4-byte selector')
    if (isSessionForbiddenSelector(policy.selector))
      fail(
        'forbidden-selector',
        `${path}.selector`,
        `${policy.selector} installs/uninstalls modules or upgrades`,
      )
    const key = `${policy.target.toLowerCase()}:${policy.selector.toLowerCase()}`
    if (seenCalls.has(key))
      fail('duplicate-policy', path, `a second policy for ${policy.target} ${policy.selector}`)
    seenCalls.add(key)
    checkAmount(policy.maxValuePerUse, maxUsageLimit, `${path}.maxValuePerUse`, fail)
    checkLimit(policy.valueLimit, maxUsageLimit, `${path}.valueLimit`, fail)
    if (!Array.isArray(policy.constraints))
      fail('malformed-policy', `${path}.constraints`, 'must be an array')
    if (policy.constraints.length > maxConstraints)
      fail('malformed-policy', `${path}.constraints`, `at most ${maxConstraints} constraints per policy`)
    policy.constraints.forEach((c, j) => {
      const cpath = `${path}.constraints[${j}]`
      if (!conditions.includes(c.condition))
        fail('malformed-policy', `${cpath}.condition`, `unknown "${c.condition}"`)
      if (!Number.isSafeInteger(c.index) || c.index < 0 || c.index > maxConstraintIndex)
        fail(
          'malformed-policy',
          `${cpath}.index`,
          `must be a calldata word index from 0 to ${maxConstraintIndex}`,
        )
      if (typeof c.refValue !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(c.refValue))
        fail('malformed-policy', `${cpath}.refValue`, 'must be a 32-byte word')
      checkLimit(c.limit, maxUsageLimit, `${cpath}.limit`, fail)
    })
  })
  const seenTransfers = new Set<string>()
  spec.transferPolicies.forEach((policy, i) => {
    const path = `transferPolicies[${i}]`
    checkTarget(policy.target, `${path}.target`)
    if (seenTransfers.has(policy.target.toLowerCase()))
      fail('duplicate-policy', path, `a second transfer policy for ${policy.target}`)
    seenTransfers.add(policy.target.toLowerCase())
    checkAmount(policy.maxValuePerUse, maxUsageLimit, `${path}.maxValuePerUse`, fail)
    checkLimit(policy.valueLimit, maxUsageLimit, `${path}.valueLimit`, fail)
  })
  // The userOp signature carries the packed spec behind a uint16 length.
  const packed = (encodeSessionSpec(spec).length - 2) / 2
  if (packed > maxPackedLength)
    fail(
      'malformed-policy',
      'spec',
      `the packed spec is ${packed} bytes; a session signature holds at most ${maxPackedLength}`,
    )
  return spec
}

type Fail = (rule: SessionSpecRule, path: string, message: string) => never

function checkSigner(signer: Hex, fail: Fail) {
  if (typeof signer !== 'string' || !/^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{128})$/.test(signer))
    fail('invalid-signer', 'signer', 'must be a 20-byte address or a 64-byte P-256 public key x ‖ y')
  if (/^0x0+$/.test(signer)) fail('invalid-signer', 'signer', 'the zero signer can not sign')
  if (signer.length === 130) {
    const x = BigInt(signer.slice(0, 66))
    const y = BigInt(`0x${signer.slice(66)}`)
    const onCurve =
      x < p256P &&
      y < p256P &&
      (y * y - (x * x * x - 3n * x + p256B)) % p256P === 0n &&
      !(x === 0n && y === 0n)
    if (!onCurve) fail('invalid-signer', 'signer', 'the P-256 public key is not on the curve')
  }
}

function checkAmount(value: bigint, max: bigint, path: string, fail: Fail) {
  if (typeof value !== 'bigint' || value < 0n || value > max)
    fail('malformed-limit', path, `must be an amount between 0 and ${max}`)
}

function checkLimit(limit: UsageLimit, max: bigint, path: string, fail: Fail) {
  if (typeof limit !== 'object' || limit === null) return fail('malformed-limit', path, 'missing usage limit')
  if (limit.type === 'unlimited') return
  if (limit.type !== 'lifetime' && limit.type !== 'allowance')
    return fail('malformed-limit', path, `unknown limit type "${(limit as { type: string }).type}"`)
  if (typeof limit.limit !== 'bigint' || limit.limit < 0n || limit.limit > max)
    fail('malformed-limit', `${path}.limit`, `must be between 0 and ${max}`)
  if (
    limit.type === 'allowance' &&
    (!Number.isSafeInteger(limit.period) || limit.period < 1 || limit.period > maxAllowancePeriod)
  )
    fail(
      'malformed-limit',
      `${path}.period`,
      `an allowance needs a period between 1 and ${maxAllowancePeriod} seconds (uint32)`,
    )
}
