/**
 * The packed session spec the SessionKeyValidator takes (`createSession(bytes)`, `sessionState`, the userOp
 * signature): fixed-width big-endian fields, no padding, and the session id (its keccak256).
 */
import { getAddress, type Hex, keccak256 } from 'viem'
import { InvalidParamsError } from './Errors.js'
import {
  type CallPolicy,
  type Constraint,
  conditions,
  InvalidSessionSpecError,
  type SessionSpec,
  type SessionSpecRule,
  type TransferPolicy,
  type UsageLimit,
} from './SessionSpec.js'

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
