/**
 * Session specs of the SessionKeyValidator (packages/contracts/src/session/ISessionKeyValidator.sol): types,
 * ergonomic policy helpers, the packed encoding and session id, the validation rules both the client and the popup
 * run before anything reaches the chain, the local policy check the client runs before sending with a session, and
 * the human summary (most spent per token over the session) the popup shows. On chain a spec travels packed
 * ({@link encodeSessionSpec}: fixed-width big-endian fields, no padding).
 */
import {
  type Abi,
  type AbiFunction,
  type Address,
  encodeAbiParameters,
  getAbiItem,
  getAddress,
  type Hex,
  isAddress,
  keccak256,
  toFunctionSelector,
  zeroAddress,
} from 'viem'
import { entryPoint08Address } from 'viem/account-abstraction'
import { BaseError, InvalidParamsError, RpcError, type RpcErrorOptions } from './Errors.js'
import type { SessionSpecWire } from './RpcSchema.js'

// ---------------------------------------------------------------------------------------------------------------
// Types (bigint amounts; the wire form in RpcSchema uses quantities)

/** How an amount is capped: not at all, over the whole session, or per period of `period` seconds. */
export type UsageLimit =
  | { type: 'unlimited' }
  | { type: 'lifetime'; limit: bigint }
  | { type: 'allowance'; limit: bigint; period: number }

/** Comparison `word <condition> refValue` on a calldata word (unsigned 256-bit). */
export type Condition =
  | 'unconstrained'
  | 'equal'
  | 'notEqual'
  | 'greater'
  | 'greaterOrEqual'
  | 'less'
  | 'lessOrEqual'

/** A rule on the calldata word at byte offset `4 + 32 * index`; `limit` caps the sum of the word over the session. */
export type Constraint = { condition: Condition; index: number; refValue: Hex; limit: UsageLimit }

/** Allows calls of `selector` on `target`. */
export type CallPolicy = {
  target: Address
  selector: Hex
  maxValuePerUse: bigint
  valueLimit: UsageLimit
  constraints: readonly Constraint[]
}

/** Allows plain ETH transfers (empty calldata) to `target`. */
export type TransferPolicy = { target: Address; maxValuePerUse: bigint; valueLimit: UsageLimit }

/** A session: who signs (`signer`: 20-byte address or 64-byte P-256 `x ‖ y`), until when, and what it may do. */
export type SessionSpec = {
  signer: Hex
  /** Unix seconds. */
  expiresAt: number
  feeLimit: UsageLimit
  callPolicies: readonly CallPolicy[]
  transferPolicies: readonly TransferPolicy[]
}

/** A spec without its signer: what a dapp asks for (the client fills in the session key). */
export type SessionRequest = Omit<SessionSpec, 'signer' | 'callPolicies' | 'transferPolicies'> & {
  callPolicies?: readonly CallPolicy[] | undefined
  transferPolicies?: readonly TransferPolicy[] | undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** Why a spec is refused (`error.rule`). */
export type SessionSpecRule =
  | 'expiry-in-past'
  | 'invalid-signer'
  | 'banned-target'
  | 'forbidden-selector'
  | 'unlimited-fee-limit'
  | 'malformed-limit'
  | 'malformed-policy'
  | 'duplicate-policy'

/**
 * The session spec breaks a rule (-32602). `rule` names it, `path` where (e.g. `callPolicies[0].target`).
 *
 * @example
 * ```ts
 * try { validateSessionSpec(spec) } catch (e) { if (e instanceof InvalidSessionSpecError) e.rule }
 * ```
 */
export class InvalidSessionSpecError extends InvalidParamsError {
  override name = 'InvalidSessionSpecError'
  readonly rule: SessionSpecRule
  readonly path: string
  constructor(rule: SessionSpecRule, path: string, message: string) {
    super(`Invalid session spec (${rule} at ${path}): ${message}`, {
      data: { reason: 'invalid_session_spec', rule, path },
    })
    this.rule = rule
    this.path = path
  }
}

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

/** A call the session may not make: the rule, a sentence naming it, and where (`callIndex`). */
export type SessionPolicyViolation = {
  rule: SessionPolicyRule
  message: string
  callIndex?: number | undefined
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

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** No cap. Not allowed for the fee limit. */
export const unlimited: UsageLimit = { type: 'unlimited' }

/**
 * At most `limit` over the whole session.
 *
 * @example
 * ```ts
 * transferPolicy({ target, valueLimit: lifetime(parseEther('0.1')) })
 * ```
 */
export function lifetime(limit: bigint): UsageLimit {
  return { type: 'lifetime', limit }
}

const periods = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const

/**
 * At most `limit` per period; periods are aligned on `timestamp / period` (they reset at every multiple of
 * `period` seconds). `period` is seconds or a string like `'1h'`, `'30m'`, `'1d'`.
 *
 * @example
 * ```ts
 * allowance(parseUnits('10', 18), '1h') // 10 tokens per hour
 * ```
 */
export function allowance(limit: bigint, period: number | `${number}${keyof typeof periods}`): UsageLimit {
  let seconds: number
  if (typeof period === 'number') seconds = period
  else {
    const match = /^(\d+)([smhdw])$/.exec(period)
    if (!match) throw new BaseError(`Invalid allowance period "${period}": use seconds or e.g. '1h'.`)
    seconds = Number(match[1]) * periods[match[2] as keyof typeof periods]
  }
  return { type: 'allowance', limit, period: seconds }
}

/** A constraint on one argument of {@link callPolicy}: `{ equal: value }`, `{ lessOrEqual: value, limit }`, … */
export type ArgConstraint = {
  limit?: UsageLimit | undefined
} & (
  | { equal: unknown }
  | { notEqual: unknown }
  | { greater: unknown }
  | { greaterOrEqual: unknown }
  | { less: unknown }
  | { lessOrEqual: unknown }
  | { limit: UsageLimit }
)

const conditionKeys = ['equal', 'notEqual', 'greater', 'greaterOrEqual', 'less', 'lessOrEqual'] as const

/**
 * A call policy from an ABI: the selector of `functionName`, and per argument (by position, static types only) an
 * optional constraint with its own usage limit.
 *
 * @example
 * ```ts
 * callPolicy({
 *   abi: erc20Abi, functionName: 'transfer', target: token,
 *   args: [{ equal: shop }, { limit: allowance(parseUnits('10', 18), '1h') }],
 * })
 * ```
 */
export function callPolicy(parameters: {
  abi: Abi | readonly unknown[]
  functionName: string
  target: Address
  args?: readonly (ArgConstraint | undefined)[] | undefined
  maxValuePerUse?: bigint | undefined
  valueLimit?: UsageLimit | undefined
}): CallPolicy {
  const { abi, functionName, target } = parameters
  const item = getAbiItem({ abi: abi as Abi, name: functionName }) as AbiFunction | undefined
  if (item?.type !== 'function') throw new BaseError(`callPolicy: the ABI has no function "${functionName}".`)
  const constraints: Constraint[] = []
  ;(parameters.args ?? []).forEach((arg, index) => {
    if (arg === undefined) return
    const input = item.inputs[index]
    if (!input) throw new BaseError(`callPolicy: ${functionName} has no argument ${index}.`)
    if (isDynamic(input.type))
      throw new BaseError(
        `callPolicy: argument ${index} (${input.type}) of ${functionName} is dynamic; only static arguments can be constrained.`,
      )
    const key = conditionKeys.find((k) => k in arg)
    const refValue = key
      ? encodeAbiParameters([input], [(arg as Record<string, unknown>)[key]])
      : (`0x${'00'.repeat(32)}` as Hex)
    constraints.push({
      condition: key ?? 'unconstrained',
      index,
      refValue,
      limit: arg.limit ?? unlimited,
    })
  })
  return {
    target,
    selector: toFunctionSelector(item),
    maxValuePerUse: parameters.maxValuePerUse ?? 0n,
    valueLimit: parameters.valueLimit ?? unlimited,
    constraints,
  }
}

function isDynamic(type: string): boolean {
  return type === 'bytes' || type === 'string' || type.includes('[') || type.startsWith('tuple')
}

/**
 * A transfer policy: plain ETH transfers to `target`, at most `maxValuePerUse` each and `valueLimit` in total.
 *
 * @example
 * ```ts
 * transferPolicy({ target: friend, maxValuePerUse: parseEther('0.01'), valueLimit: lifetime(parseEther('0.05')) })
 * ```
 */
export function transferPolicy(parameters: {
  target: Address
  maxValuePerUse: bigint
  valueLimit: UsageLimit
}): TransferPolicy {
  return { ...parameters }
}

// ---------------------------------------------------------------------------------------------------------------
// Packed encoding (the bytes `createSession`, `sessionState` and the userOp signature carry)

/** Largest amount of a 13-byte field: every usage limit and `maxValuePerUse`. */
export const maxUsageLimit = (1n << 104n) - 1n
/** Largest fee limit: the SessionKeyValidator keeps the fee spent in 80 bits of the session's slot (`_MAX_FEE_LIMIT`). */
export const maxFeeLimit = (1n << 80n) - 1n
/** Largest allowance period in seconds (uint32). */
export const maxAllowancePeriod = 2 ** 32 - 1
/** Largest number of call policies, of transfer policies, and of constraints per call policy (1-byte counts). */
export const maxPolicyCount = 255

const limitTypes = { unlimited: 0, lifetime: 1, allowance: 2 } as const
const limitTypeNames = ['unlimited', 'lifetime', 'allowance'] as const
const conditions: readonly Condition[] = [
  'unconstrained',
  'equal',
  'notEqual',
  'greater',
  'greaterOrEqual',
  'less',
  'lessOrEqual',
]
const signerKinds = { secp256k1: 0x01, p256: 0x02 } as const

/**
 * Packed spec bytes that do not follow the layout (truncated, trailing bytes, unknown signer kind, limit type or
 * condition, a non-canonical limit). `offset` is the byte where decoding stopped, as the contract's
 * `InvalidSpecEncoding(offset)`.
 *
 * @example
 * ```ts
 * try { decodeSessionSpec(bytes) } catch (e) { if (e instanceof InvalidSessionSpecEncodingError) e.offset }
 * ```
 */
export class InvalidSessionSpecEncodingError extends InvalidParamsError {
  override name = 'InvalidSessionSpecEncodingError'
  readonly offset: number
  constructor(offset: number, message: string) {
    super(`Invalid packed session spec at byte ${offset}: ${message}`, {
      data: { reason: 'invalid_session_spec_encoding', offset },
    })
    this.offset = offset
  }
}

/** Big-endian fixed-width field; refuses what does not fit (never truncates). */
function field(value: bigint | number, bytes: number, rule: SessionSpecRule, path: string): string {
  const v = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << BigInt(8 * bytes))
    throw new InvalidSessionSpecError(rule, path, `${String(value)} does not fit ${bytes} bytes`)
  return v.toString(16).padStart(2 * bytes, '0')
}

function rawHex(value: unknown, bytes: number, path: string): string {
  if (typeof value !== 'string' || !new RegExp(`^0x[0-9a-fA-F]{${2 * bytes}}$`).test(value))
    throw new InvalidSessionSpecError('malformed-policy', path, `must be ${bytes} bytes of hex`)
  return value.slice(2).toLowerCase()
}

function count(list: readonly unknown[], path: string): string {
  if (!Array.isArray(list)) throw new InvalidSessionSpecError('malformed-policy', path, 'must be an array')
  if (list.length > maxPolicyCount)
    throw new InvalidSessionSpecError('malformed-policy', path, `at most ${maxPolicyCount} entries`)
  return list.length.toString(16).padStart(2, '0')
}

function packLimit(limit: UsageLimit, path: string): string {
  if (typeof limit !== 'object' || limit === null || !(limit.type in limitTypes))
    throw new InvalidSessionSpecError('malformed-limit', path, 'unknown usage limit')
  return (
    field(limitTypes[limit.type], 1, 'malformed-limit', `${path}.type`) +
    field(limit.type === 'unlimited' ? 0n : limit.limit, 13, 'malformed-limit', `${path}.limit`) +
    field(limit.type === 'allowance' ? limit.period : 0, 4, 'malformed-limit', `${path}.period`)
  )
}

/**
 * The packed spec the SessionKeyValidator takes (`createSession(bytes)`, `sessionState`, the userOp signature):
 * `signerKind(1) signer(20|64) expiresAt(6) feeLimit(18) callCount(1) CallPolicy* transferCount(1)
 * TransferPolicy*`, big-endian, no padding. Throws {@link InvalidSessionSpecError} when a value does not fit its
 * field (run {@link validateSessionSpec} for the full rules).
 *
 * @example
 * ```ts
 * encodeFunctionData({ abi: sessionKeyValidatorAbi, functionName: 'createSession', args: [encodeSessionSpec(spec)] })
 * ```
 */
export function encodeSessionSpec(spec: SessionSpec): Hex {
  const signer = spec.signer
  const kind =
    typeof signer === 'string' && signer.length === 42
      ? signerKinds.secp256k1
      : typeof signer === 'string' && signer.length === 130
        ? signerKinds.p256
        : undefined
  if (kind === undefined)
    throw new InvalidSessionSpecError(
      'invalid-signer',
      'signer',
      'must be a 20-byte address or a 64-byte P-256 public key x ‖ y',
    )
  let out = field(kind, 1, 'invalid-signer', 'signer')
  out += rawHex(signer, kind === signerKinds.secp256k1 ? 20 : 64, 'signer')
  out += field(spec.expiresAt, 6, 'malformed-policy', 'expiresAt')
  out += packLimit(spec.feeLimit, 'feeLimit')
  out += count(spec.callPolicies, 'callPolicies')
  spec.callPolicies.forEach((p, i) => {
    const path = `callPolicies[${i}]`
    out += rawHex(p.target, 20, `${path}.target`)
    out += rawHex(p.selector, 4, `${path}.selector`)
    out += field(p.maxValuePerUse, 13, 'malformed-limit', `${path}.maxValuePerUse`)
    out += packLimit(p.valueLimit, `${path}.valueLimit`)
    out += count(p.constraints, `${path}.constraints`)
    p.constraints.forEach((c, j) => {
      const cpath = `${path}.constraints[${j}]`
      const condition = conditions.indexOf(c.condition)
      if (condition < 0)
        throw new InvalidSessionSpecError(
          'malformed-policy',
          `${cpath}.condition`,
          `unknown "${c.condition}"`,
        )
      out += field(condition, 1, 'malformed-policy', `${cpath}.condition`)
      out += field(c.index, 2, 'malformed-policy', `${cpath}.index`)
      out += rawHex(c.refValue, 32, `${cpath}.refValue`)
      out += packLimit(c.limit, `${cpath}.limit`)
    })
  })
  out += count(spec.transferPolicies, 'transferPolicies')
  spec.transferPolicies.forEach((p, i) => {
    const path = `transferPolicies[${i}]`
    out += rawHex(p.target, 20, `${path}.target`)
    out += field(p.maxValuePerUse, 13, 'malformed-limit', `${path}.maxValuePerUse`)
    out += packLimit(p.valueLimit, `${path}.valueLimit`)
  })
  return `0x${out}`
}

/**
 * The spec in packed bytes (e.g. the argument of a `createSession` call the popup is asked to sign). Strict: the
 * bytes must be exactly one spec in canonical form, so `encodeSessionSpec(decodeSessionSpec(bytes)) === bytes` and
 * the session id is the one the contract computes. Throws {@link InvalidSessionSpecEncodingError}.
 *
 * @example
 * ```ts
 * const spec = decodeSessionSpec(args[0]) // createSession(bytes spec)
 * ```
 */
export function decodeSessionSpec(bytes: Hex): SessionSpec {
  if (typeof bytes !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(bytes))
    throw new InvalidSessionSpecEncodingError(0, 'not hex bytes')
  const hex = bytes.slice(2).toLowerCase()
  const size = hex.length / 2
  let at = 0
  const take = (n: number, what: string): string => {
    if (at + n > size)
      throw new InvalidSessionSpecEncodingError(at, `truncated: ${what} needs ${n} bytes, ${size - at} left`)
    const out = hex.slice(2 * at, 2 * (at + n))
    at += n
    return out
  }
  const uint = (n: number, what: string) => BigInt(`0x${take(n, what)}`)
  const limit = (what: string): UsageLimit => {
    const start = at
    const type = limitTypeNames[Number(uint(1, `${what} type`))]
    if (type === undefined) throw new InvalidSessionSpecEncodingError(start, `${what}: unknown limit type`)
    const amount = uint(13, `${what} limit`)
    const period = Number(uint(4, `${what} period`))
    if (type === 'unlimited') {
      if (amount !== 0n || period !== 0)
        throw new InvalidSessionSpecEncodingError(start, `${what}: Unlimited with a limit or period`)
      return { type }
    }
    if (type === 'lifetime') {
      if (period !== 0) throw new InvalidSessionSpecEncodingError(start, `${what}: Lifetime with a period`)
      return { type, limit: amount }
    }
    return { type, limit: amount, period }
  }

  const kind = Number(uint(1, 'signer kind'))
  const signerLength = kind === signerKinds.secp256k1 ? 20 : kind === signerKinds.p256 ? 64 : undefined
  if (signerLength === undefined)
    throw new InvalidSessionSpecEncodingError(
      0,
      `unknown signer kind 0x${kind.toString(16).padStart(2, '0')}`,
    )
  const signer: Hex = `0x${take(signerLength, 'signer')}`
  const expiresAt = Number(uint(6, 'expiresAt'))
  const feeLimit = limit('feeLimit')
  const callPolicies: CallPolicy[] = []
  const callCount = Number(uint(1, 'call policy count'))
  for (let i = 0; i < callCount; i++) {
    const what = `callPolicies[${i}]`
    const target = getAddress(`0x${take(20, `${what}.target`)}`)
    const selector: Hex = `0x${take(4, `${what}.selector`)}`
    const maxValuePerUse = uint(13, `${what}.maxValuePerUse`)
    const valueLimit = limit(`${what}.valueLimit`)
    const constraints: Constraint[] = []
    const constraintCount = Number(uint(1, `${what} constraint count`))
    for (let j = 0; j < constraintCount; j++) {
      const cwhat = `${what}.constraints[${j}]`
      const start = at
      const condition = conditions[Number(uint(1, `${cwhat}.condition`))]
      if (condition === undefined)
        throw new InvalidSessionSpecEncodingError(start, `${cwhat}: unknown condition`)
      const index = Number(uint(2, `${cwhat}.index`))
      const refValue: Hex = `0x${take(32, `${cwhat}.refValue`)}`
      constraints.push({ condition, index, refValue, limit: limit(`${cwhat}.limit`) })
    }
    callPolicies.push({ target, selector, maxValuePerUse, valueLimit, constraints })
  }
  const transferPolicies: TransferPolicy[] = []
  const transferCount = Number(uint(1, 'transfer policy count'))
  for (let i = 0; i < transferCount; i++) {
    const what = `transferPolicies[${i}]`
    const target = getAddress(`0x${take(20, `${what}.target`)}`)
    const maxValuePerUse = uint(13, `${what}.maxValuePerUse`)
    transferPolicies.push({ target, maxValuePerUse, valueLimit: limit(`${what}.valueLimit`) })
  }
  if (at !== size) throw new InvalidSessionSpecEncodingError(at, `${size - at} trailing bytes after the spec`)
  return { signer, expiresAt, feeLimit, callPolicies, transferPolicies }
}

/**
 * The session id the contract uses: `keccak256(packedSpec)`.
 *
 * @example
 * ```ts
 * const id = sessionId(spec)
 * ```
 */
export function sessionId(spec: SessionSpec): Hex {
  return keccak256(encodeSessionSpec(spec))
}

// ---------------------------------------------------------------------------------------------------------------
// Wire form (postMessage / JSON: quantities instead of bigints)

const toQ = (value: bigint): `0x${string}` => `0x${value.toString(16)}`

function limitToWire(limit: UsageLimit): SessionSpecWire['feeLimit'] {
  if (limit.type === 'unlimited') return { type: 'unlimited' }
  if (limit.type === 'lifetime') return { type: 'lifetime', limit: toQ(limit.limit) }
  return { type: 'allowance', limit: toQ(limit.limit), period: limit.period }
}

function limitFromWire(limit: SessionSpecWire['feeLimit']): UsageLimit {
  if (limit.type === 'unlimited') return { type: 'unlimited' }
  if (limit.type === 'lifetime') return { type: 'lifetime', limit: BigInt(limit.limit) }
  return { type: 'allowance', limit: BigInt(limit.limit), period: limit.period }
}

/** The spec as it crosses `postMessage` (`RpcSchema.SessionSpec`). */
export function sessionSpecToWire(spec: SessionSpec): SessionSpecWire {
  return {
    signer: spec.signer,
    expiresAt: spec.expiresAt,
    feeLimit: limitToWire(spec.feeLimit),
    callPolicies: spec.callPolicies.map((p) => ({
      target: p.target,
      selector: p.selector,
      maxValuePerUse: toQ(p.maxValuePerUse),
      valueLimit: limitToWire(p.valueLimit),
      constraints: p.constraints.map((c) => ({ ...c, limit: limitToWire(c.limit) })),
    })),
    transferPolicies: spec.transferPolicies.map((p) => ({
      target: p.target,
      maxValuePerUse: toQ(p.maxValuePerUse),
      valueLimit: limitToWire(p.valueLimit),
    })),
  }
}

/** Inverse of {@link sessionSpecToWire}. */
export function sessionSpecFromWire(wire: SessionSpecWire): SessionSpec {
  return {
    signer: wire.signer,
    expiresAt: wire.expiresAt,
    feeLimit: limitFromWire(wire.feeLimit),
    callPolicies: wire.callPolicies.map((p) => ({
      target: p.target,
      selector: p.selector,
      maxValuePerUse: BigInt(p.maxValuePerUse),
      valueLimit: limitFromWire(p.valueLimit),
      constraints: p.constraints.map((c) => ({ ...c, limit: limitFromWire(c.limit) })),
    })),
    transferPolicies: wire.transferPolicies.map((p) => ({
      target: p.target,
      maxValuePerUse: BigInt(p.maxValuePerUse),
      valueLimit: limitFromWire(p.valueLimit),
    })),
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation (client before sending, popup again before showing)

const maxUint256 = (1n << 256n) - 1n
const p256P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const p256B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn

/** The selectors a session may never call (module install/uninstall, upgrades). */
export const forbiddenSelectors: readonly Hex[] = [
  toFunctionSelector('function installModule(uint256,address,bytes)'),
  toFunctionSelector('function uninstallModule(uint256,address,bytes)'),
  toFunctionSelector('function upgradeToAndCall(address,bytes)'),
  toFunctionSelector('function upgradeTo(address)'),
]

export type ValidateSessionSpecOptions = {
  /** Current time in unix seconds (default: the system clock; pass the chain's latest block time when known). */
  now?: number | undefined
  /** The account the session is for: a session may never call it. */
  account?: Address | undefined
  /** Other banned targets: the validator modules (SessionKeyValidator, WebAuthnValidator, …), executors. */
  bannedTargets?: readonly Address[] | undefined
}

/**
 * Checks a spec against the rules of `SessionKeyValidator.createSession` (and a few of its own: a policy must allow
 * something bounded). Throws {@link InvalidSessionSpecError} naming the rule; returns the spec otherwise.
 *
 * @example
 * ```ts
 * validateSessionSpec(spec, { account, bannedTargets: [sessionKeyValidator, webAuthnValidator] })
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
  if (!Number.isSafeInteger(spec.expiresAt) || spec.expiresAt >= 2 ** 48)
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
  banned.set(entryPoint08Address.toLowerCase(), 'the EntryPoint')
  if (options.account) banned.set(options.account.toLowerCase(), 'the account itself')
  for (const target of options.bannedTargets ?? [])
    banned.set(target.toLowerCase(), 'a module of the account')
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
  if (spec.callPolicies.length > maxPolicyCount)
    fail('malformed-policy', 'callPolicies', `at most ${maxPolicyCount} call policies`)
  if (spec.transferPolicies.length > maxPolicyCount)
    fail('malformed-policy', 'transferPolicies', `at most ${maxPolicyCount} transfer policies`)

  const seenCalls = new Set<string>()
  spec.callPolicies.forEach((policy, i) => {
    const path = `callPolicies[${i}]`
    checkTarget(policy.target, `${path}.target`)
    if (typeof policy.selector !== 'string' || !/^0x[0-9a-fA-F]{8}$/.test(policy.selector))
      fail('malformed-policy', `${path}.selector`, 'must be a 4-byte selector')
    if (forbiddenSelectors.includes(policy.selector.toLowerCase() as Hex))
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
    if (policy.constraints.length > maxPolicyCount)
      fail('malformed-policy', `${path}.constraints`, `at most ${maxPolicyCount} constraints per policy`)
    policy.constraints.forEach((c, j) => {
      const cpath = `${path}.constraints[${j}]`
      if (!conditions.includes(c.condition))
        fail('malformed-policy', `${cpath}.condition`, `unknown "${c.condition}"`)
      if (!Number.isSafeInteger(c.index) || c.index < 0 || c.index > 0xffff)
        fail('malformed-policy', `${cpath}.index`, 'must be a calldata word index that fits uint16 (0…65535)')
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
  if (packed > 0xffff)
    fail(
      'malformed-policy',
      'spec',
      `the packed spec is ${packed} bytes; a session signature holds at most 65535`,
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

// ---------------------------------------------------------------------------------------------------------------
// Remaining limits and the local policy check

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
    }

  const banned = new Set([
    options.account.toLowerCase(),
    entryPoint08Address.toLowerCase(),
    ...(options.bannedTargets ?? []).map((a) => a.toLowerCase()),
  ])
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
    const v = (rule: SessionPolicyRule, message: string): SessionPolicyViolation => ({
      rule,
      message,
      callIndex,
    })
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
        )
      const r = consume(`t${index}`, state?.transferValueRemaining[index], policy.valueLimit, value)
      if (!r.ok)
        return v(
          'value-limit-exceeded',
          `${value} wei to ${call.to} is more than the ${r.left} wei left of its limit`,
        )
      continue
    }
    if (dataLength < 4) return v('invalid-calldata', `calldata to ${call.to} is shorter than a selector`)
    const selector = data.slice(0, 10).toLowerCase()
    if (forbiddenSelectors.includes(selector as Hex))
      return v('forbidden-selector', `${selector} is forbidden`)
    const index = spec.callPolicies.findIndex(
      (p) => p.target.toLowerCase() === call.to.toLowerCase() && p.selector.toLowerCase() === selector,
    )
    const policy = spec.callPolicies[index]
    if (!policy) return v('no-call-policy', `no call policy allows ${selector} on ${call.to}`)
    if (value > policy.maxValuePerUse)
      return v(
        'value-per-use-exceeded',
        `${value} wei is more than ${policy.maxValuePerUse} per call of ${selector}`,
      )
    const rv = consume(`c${index}`, state?.callPolicies[index]?.valueRemaining, policy.valueLimit, value)
    if (!rv.ok)
      return v('value-limit-exceeded', `${value} wei is more than the ${rv.left} wei left for ${selector}`)
    for (const [j, c] of policy.constraints.entries()) {
      const start = 10 + 64 * c.index
      if (data.length < start + 64)
        return v('constraint-out-of-bounds', `argument word ${c.index} of ${selector} is missing`)
      const word = BigInt(`0x${data.slice(start, start + 64)}`)
      const ref = BigInt(c.refValue)
      if (!holds(c.condition, word, ref))
        return v(
          'constraint-violated',
          `argument ${c.index} of ${selector} must be ${c.condition} ${c.refValue} (is 0x${word.toString(16)})`,
        )
      const rc = consume(`c${index}.${j}`, state?.callPolicies[index]?.constraintRemaining[j], c.limit, word)
      if (!rc.ok)
        return v(
          'constraint-limit-exceeded',
          `argument ${c.index} of ${selector} adds up to more than the ${rc.left} left of its limit (wants ${word})`,
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

// ---------------------------------------------------------------------------------------------------------------
// Summary for humans (the popup)

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
