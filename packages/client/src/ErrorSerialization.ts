/**
 * Errors crossing `postMessage` (docs/interfaces.md, "Popup protocol"): plain `{ code, message, data }` one way
 * ({@link serializeError}), the classes of RpcErrors.ts rebuilt the other way ({@link deserializeError}).
 */
import {
  AtomicityNotSupportedError,
  BundleTooLargeError,
  ChainDisconnectedError,
  type ConflictingField,
  ConflictingParamsError,
  DisconnectedError,
  DuplicateIdError,
  InternalError,
  InvalidParamsError,
  InvalidRequestError,
  MethodNotFoundError,
  ParseError,
  RpcError,
  type RpcErrorClass,
  type RpcErrorOptions,
  TransactionRejectedError,
  UnauthorizedError,
  UnknownBundleIdError,
  UnknownChainError,
  UnsupportedChainIdError,
  UnsupportedMethodError,
  UnsupportedNonOptionalCapabilityError,
  UserRejectedRequestError,
} from './RpcErrors.js'

// The classes a code is rebuilt into.
const classes: readonly RpcErrorClass[] = [
  UserRejectedRequestError,
  UnauthorizedError,
  UnsupportedMethodError,
  DisconnectedError,
  ChainDisconnectedError,
  UnknownChainError,
  ParseError,
  InvalidRequestError,
  MethodNotFoundError,
  InvalidParamsError,
  InternalError,
  TransactionRejectedError,
  UnsupportedNonOptionalCapabilityError,
  UnsupportedChainIdError,
  DuplicateIdError,
  UnknownBundleIdError,
  BundleTooLargeError,
  AtomicityNotSupportedError,
]

/** An error as it crosses `postMessage`: `{ code, message, data? }` (the JSON-RPC error object). */
export type SerializedError = { code: number; message: string; data?: unknown }

/**
 * Turns any thrown value into a `{ code, message, data }` object for `postMessage`. Unknown errors become -32603
 * and keep only their message (never a stack).
 *
 * @example
 * ```ts
 * serializeError(new UserRejectedRequestError()) // { code: 4001, message: 'The user rejected the request.' }
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof RpcError) {
    const serialized: SerializedError = { code: error.code, message: error.shortMessage }
    const data = toCloneable(error.data)
    if (data !== undefined) serialized.data = data
    return serialized
  }
  if (isErrorObject(error)) {
    const serialized: SerializedError = { code: error.code, message: error.message }
    const data = toCloneable((error as { data?: unknown }).data)
    if (data !== undefined) serialized.data = data
    return serialized
  }
  const message =
    error instanceof Error ? error.message : typeof error === 'string' ? error : 'Internal error.'
  return { code: InternalError.code, message }
}

/**
 * Rebuilds the class of a serialized error (`{ code, message, data }`), e.g. 4001 -> {@link UserRejectedRequestError}.
 * Unknown codes give a plain {@link RpcError} with that code.
 *
 * @example
 * ```ts
 * deserializeError({ code: 4001, message: 'Rejected' }) instanceof UserRejectedRequestError // true
 * ```
 */
export function deserializeError(error: SerializedError): RpcError {
  const conflict = conflictOf(error)
  if (conflict) return conflict
  const Class = classes.find((c) => c.code === error.code)
  const options: RpcErrorOptions = error.data === undefined ? {} : { data: error.data }
  if (Class) return new Class(error.message, options)
  return new RpcError(error.code, error.message, options)
}

// A -32602 whose data names the two conflicting fields, and whose message is the one those fields give.
function conflictOf(error: SerializedError): ConflictingParamsError | undefined {
  if (error.code !== InvalidParamsError.code) return undefined
  const data = error.data as { reason?: unknown; what?: unknown; fields?: unknown } | undefined
  if (data?.reason !== 'conflicting_params' || typeof data.what !== 'string') return undefined
  const isField = (f: unknown): f is ConflictingField =>
    typeof (f as ConflictingField)?.field === 'string' && typeof (f as ConflictingField)?.value === 'string'
  const fields = data.fields
  if (!Array.isArray(fields) || fields.length !== 2 || !isField(fields[0]) || !isField(fields[1]))
    return undefined
  const rebuilt = new ConflictingParamsError(data.what, fields[0], fields[1])
  return rebuilt.shortMessage === error.message ? rebuilt : undefined
}

function isErrorObject(value: unknown): value is { code: number; message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Number.isInteger((value as { code?: unknown }).code) &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}

// `data` must survive structured clone: drop what can't (functions, class instances with methods are fine-ish but
// errors and functions are not). JSON round trip is the safe common denominator (bigints become strings).
function toCloneable(data: unknown): unknown {
  if (data === undefined) return undefined
  try {
    return JSON.parse(JSON.stringify(data, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
  } catch {
    return undefined
  }
}
