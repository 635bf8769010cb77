/**
 * Session specs of the SessionKeyValidator (packages/contracts/src/session/ISessionKeyValidator.sol): the types, the
 * policy helpers a dapp builds a spec with, and the conversion to and from the wire form. The types are the wire
 * schema's (`RpcSchema.SessionSpec`) with bigint amounts instead of quantities. The packed encoding is in
 * `SessionSpecEncoding.ts`, the rules a spec must follow in `SessionSpecValidation.ts`, the check of calls against a
 * spec in `SessionPolicy.ts`.
 */
import {
  type Abi,
  type AbiFunction,
  type Address,
  encodeAbiParameters,
  getAbiItem,
  type Hex,
  toFunctionSelector,
} from 'viem'
import { BaseError, InvalidParamsError } from './Errors.js'
import { SessionCondition, type SessionSpecWire } from './RpcSchema.js'

// ---------------------------------------------------------------------------------------------------------------
// Types: the wire schema's, with bigint amounts

/** `T` with the members named in `R` replaced by their type there (distributes over unions). */
type Replace<T, R> = T extends unknown ? { [K in keyof T]: K extends keyof R ? R[K] : T[K] } : never
type WireCallPolicy = SessionSpecWire['callPolicies'][number]

/** How an amount is capped: not at all, over the whole session, or per period of `period` seconds. */
export type UsageLimit = Replace<SessionSpecWire['feeLimit'], { limit: bigint }>

/** Comparison `word <condition> refValue` on a calldata word (unsigned 256-bit). */
export type Condition = WireCallPolicy['constraints'][number]['condition']

/** A rule on the calldata word at byte offset `4 + 32 * index`; `limit` caps the sum of the word over the session. */
export type Constraint = Replace<WireCallPolicy['constraints'][number], { limit: UsageLimit }>

/** Allows calls of `selector` on `target`. */
export type CallPolicy = Replace<
  WireCallPolicy,
  { maxValuePerUse: bigint; valueLimit: UsageLimit; constraints: readonly Constraint[] }
>

/** Allows plain ETH transfers (empty calldata) to `target`. */
export type TransferPolicy = Replace<
  SessionSpecWire['transferPolicies'][number],
  { maxValuePerUse: bigint; valueLimit: UsageLimit }
>

/**
 * A session: who signs (`signer`: 20-byte address or 64-byte P-256 `x ‖ y`), until when (`expiresAt`, unix
 * seconds), and what it may do.
 */
export type SessionSpec = Replace<
  SessionSpecWire,
  {
    feeLimit: UsageLimit
    callPolicies: readonly CallPolicy[]
    transferPolicies: readonly TransferPolicy[]
  }
>

/** A spec without its signer: what a dapp asks for (the client fills in the session key). */
export type SessionRequest = Omit<SessionSpec, 'signer' | 'callPolicies' | 'transferPolicies'> & {
  callPolicies?: readonly CallPolicy[] | undefined
  transferPolicies?: readonly TransferPolicy[] | undefined
}

/** The conditions in the order of the SessionKeyValidator's `Condition` enum (the packed encoding's byte). */
export const conditions: readonly Condition[] = SessionCondition.options

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
