/**
 * Errors of the SSO client.
 *
 * One base class ({@link BaseError}: `shortMessage`, `details`, `cause`). Errors that reach a dapp through the
 * EIP-1193 provider are {@link RpcError}s carrying the standard code of EIP-1193 (4001, 4100, 4200, 4900, 4901),
 * EIP-3326 (4902), EIP-1474 / JSON-RPC 2.0 (-32600 … -32603) or EIP-5792 (57xx). The codes are the same numbers
 * ox's `Provider` / `RpcResponse` errors and viem's RPC errors use, so viem's `custom()` transport maps them to its
 * own classes (`UserRejectedRequestError`, …).
 *
 * Errors cross `postMessage` as plain `{ code, message, data }` ({@link serializeError}) and are rebuilt into these
 * classes on the other side ({@link deserializeError}).
 */

export type BaseErrorOptions = {
  /** Longer explanation appended to the message. */
  details?: string | undefined
  /** The underlying error. */
  cause?: unknown
}

/**
 * Base class of every error thrown by `@sso/client`.
 *
 * @example
 * ```ts
 * try { await provider.request({ method: 'eth_sendTransaction', params: [tx] }) }
 * catch (error) { if (error instanceof BaseError) console.log(error.shortMessage) }
 * ```
 */
export class BaseError extends Error {
  override name = 'SsoError'
  /** One-line message without details. */
  readonly shortMessage: string
  /** Longer explanation, or the message of the cause. */
  readonly details: string | undefined
  override readonly cause: unknown

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    const causeMessage =
      options.cause instanceof Error
        ? options.cause.message
        : typeof options.cause === 'string'
          ? options.cause
          : undefined
    const details = options.details ?? causeMessage
    super(details && details !== shortMessage ? `${shortMessage}\n\nDetails: ${details}` : shortMessage)
    this.shortMessage = shortMessage
    this.details = details
    this.cause = options.cause
  }
}

export type RpcErrorOptions = BaseErrorOptions & {
  /** Extra data sent with the error (`error.data` of JSON-RPC). Must be structured-cloneable. */
  data?: unknown
}

/**
 * An error with an EIP-1193 / EIP-1474 / EIP-5792 code, as returned by the provider.
 *
 * @example
 * ```ts
 * const error = new RpcError(4001, 'User rejected the request.')
 * error.code // 4001
 * ```
 */
export class RpcError extends BaseError {
  override name = 'RpcError'
  readonly code: number
  readonly data: unknown

  constructor(code: number, shortMessage: string, options: RpcErrorOptions = {}) {
    super(shortMessage, options)
    this.code = code
    this.data = options.data
  }
}

type RpcErrorClass = { readonly code: number; new (message?: string, options?: RpcErrorOptions): RpcError }

function rpcErrorClass<const code extends number>(
  code: code,
  name: string,
  defaultMessage: string,
): {
  readonly code: code
  new (message?: string, options?: RpcErrorOptions): RpcError & { readonly code: code }
} {
  const Class = class extends RpcError {
    static readonly code = code
    declare readonly code: code
    constructor(message: string = defaultMessage, options: RpcErrorOptions = {}) {
      super(code, message, options)
      this.name = name
    }
  }
  Object.defineProperty(Class, 'name', { value: name })
  return Class
}

// EIP-1193 provider errors.
/** 4001: the user rejected the request (also: closed the popup). */
export const UserRejectedRequestError = rpcErrorClass(
  4001,
  'UserRejectedRequestError',
  'The user rejected the request.',
)
/** 4100: the method needs a connected account (call `eth_requestAccounts` first), or the account is not ours. */
export const UnauthorizedError = rpcErrorClass(
  4100,
  'UnauthorizedError',
  'The requested method and/or account has not been authorized by the user.',
)
/** 4200: the provider does not support the method. */
export const UnsupportedMethodError = rpcErrorClass(
  4200,
  'UnsupportedMethodError',
  'The provider does not support the requested method.',
)
/** 4900: the provider is disconnected from all chains. */
export const DisconnectedError = rpcErrorClass(
  4900,
  'DisconnectedError',
  'The provider is disconnected from all chains.',
)
/** 4901: the provider is not connected to the requested chain. */
export const ChainDisconnectedError = rpcErrorClass(
  4901,
  'ChainDisconnectedError',
  'The provider is not connected to the requested chain.',
)
/** 4902 (EIP-3326): the chain is not configured. */
export const UnknownChainError = rpcErrorClass(4902, 'UnknownChainError', 'Unrecognized chain ID.')

// EIP-1474 / JSON-RPC 2.0 errors.
/** -32700: invalid JSON. */
export const ParseError = rpcErrorClass(-32700, 'ParseError', 'Invalid JSON was received.')
/** -32600: the message is not a valid request. */
export const InvalidRequestError = rpcErrorClass(
  -32600,
  'InvalidRequestError',
  'The request is not a valid request object.',
)
/** -32601: the method does not exist. */
export const MethodNotFoundError = rpcErrorClass(
  -32601,
  'MethodNotFoundError',
  'The method does not exist or is not available.',
)
/** -32602: the params are malformed. */
export const InvalidParamsError = rpcErrorClass(-32602, 'InvalidParamsError', 'Invalid method parameters.')
/** -32603: internal error. */
export const InternalError = rpcErrorClass(-32603, 'InternalError', 'Internal error.')
/** -32003: the transaction was rejected (e.g. it reverted in simulation). */
export const TransactionRejectedError = rpcErrorClass(
  -32003,
  'TransactionRejectedError',
  'The transaction was rejected.',
)

// EIP-5792 errors.
/** 5700: a required capability is not supported. */
export const UnsupportedNonOptionalCapabilityError = rpcErrorClass(
  5700,
  'UnsupportedNonOptionalCapabilityError',
  'The wallet does not support a capability that was not marked optional.',
)
/** 5710: the chain of the batch is not supported. */
export const UnsupportedChainIdError = rpcErrorClass(
  5710,
  'UnsupportedChainIdError',
  'The wallet does not support the requested chain ID.',
)
/** 5720: a batch with this id already exists. */
export const DuplicateIdError = rpcErrorClass(
  5720,
  'DuplicateIdError',
  'There is already a bundle submitted with this ID.',
)
/** 5730: no batch with this id is known. */
export const UnknownBundleIdError = rpcErrorClass(5730, 'UnknownBundleIdError', 'This bundle ID is unknown.')
/** 5740: too many calls in the batch. */
export const BundleTooLargeError = rpcErrorClass(5740, 'BundleTooLargeError', 'The call bundle is too large.')
/** 5760: atomicity was required and can't be provided. */
export const AtomicityNotSupportedError = rpcErrorClass(
  5760,
  'AtomicityNotSupportedError',
  'The wallet does not support atomic execution but the request requires it.',
)

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

/**
 * The popup could not be opened (the browser blocked it). The provider opens the popup synchronously inside
 * `request()`, so call methods that need the popup directly from a click handler, before any `await`.
 * Code -32603 (internal): the request never reached the wallet.
 *
 * @example
 * ```ts
 * button.onclick = () => provider.request({ method: 'eth_requestAccounts' }) // no await before this call
 * ```
 */
export class PopupBlockedError extends RpcError {
  override name = 'PopupBlockedError'
  constructor(options: BaseErrorOptions = {}) {
    super(-32603, 'The SSO popup was blocked by the browser.', {
      details:
        options.details ??
        'Call provider.request() for this method directly from a user gesture (a click handler), before any `await`, so that window.open() is allowed.',
      cause: options.cause,
      data: { reason: 'popup_blocked' },
    })
  }
}

/**
 * The popup did not answer within the configured `timeout`. Code -32603 (internal).
 *
 * @example
 * ```ts
 * createProvider({ authServerUrl, chains, timeout: 60_000 }) // reject after one minute without an answer
 * ```
 */
export class TimeoutError extends RpcError {
  override name = 'TimeoutError'
  constructor(timeout: number, options: BaseErrorOptions = {}) {
    super(-32603, `The SSO popup did not answer within ${timeout} ms.`, {
      details: options.details,
      cause: options.cause,
      data: { reason: 'timeout', timeout },
    })
  }
}

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
  const Class = classes.find((c) => c.code === error.code)
  const options: RpcErrorOptions = error.data === undefined ? {} : { data: error.data }
  if (Class) return new Class(error.message, options)
  return new RpcError(error.code, error.message, options)
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
