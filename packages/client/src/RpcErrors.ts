/**
 * The error classes of the SSO client (docs/interfaces.md, "Popup protocol"): one base class ({@link BaseError}), the
 * {@link RpcError} with a standard code, and one class per code the provider answers with. How they cross
 * `postMessage` is ErrorSerialization.ts; both are exported together as `Errors`.
 */

export type BaseErrorOptions = {
  /** Longer explanation appended to the message. */
  details?: string | undefined
  /** The underlying error. */
  cause?: unknown
  /** The page of the repository's docs that explains it (`docs/interfaces.md#popup-protocol`), appended too. */
  docsPath?: string | undefined
}

/**
 * Base class of every error thrown by `@sso/client`, and the root the other packages' errors extend (the auth
 * server's, the devnet's): one short message, details, cause and docs path everywhere.
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
  /** Where the docs explain it. */
  readonly docsPath: string | undefined
  override readonly cause: unknown

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    const causeMessage =
      options.cause instanceof Error
        ? options.cause.message
        : typeof options.cause === 'string'
          ? options.cause
          : undefined
    const details = options.details ?? causeMessage
    super(
      [
        shortMessage,
        ...(details && details !== shortMessage ? [`Details: ${details}`] : []),
        ...(options.docsPath ? [`Docs: ${options.docsPath}`] : []),
      ].join('\n\n'),
    )
    this.shortMessage = shortMessage
    this.details = details
    this.docsPath = options.docsPath
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

/** A class of one RPC error code: `code` on the class, a default message when none is given. */
export type RpcErrorClass = {
  readonly code: number
  new (message?: string, options?: RpcErrorOptions): RpcError
}

/** The class of one code, named `name`, with `defaultMessage` when it is built without a message. */
function defineRpcError(name: string, code: number, defaultMessage: string): RpcErrorClass {
  const Class = class extends RpcError {
    static readonly code = code
    override name = name
    constructor(message = defaultMessage, options: RpcErrorOptions = {}) {
      super(code, message, options)
    }
  }
  // What stack traces and test reports print.
  Object.defineProperty(Class, 'name', { value: name })
  return Class
}

// The table of RPC error codes, one class each: name, code, default message.

// EIP-1193 provider errors.
/** 4001: the user rejected the request (also: closed the popup). */
export const UserRejectedRequestError = /* @__PURE__ */ defineRpcError(
  'UserRejectedRequestError',
  4001,
  'The user rejected the request.',
)
export type UserRejectedRequestError = InstanceType<typeof UserRejectedRequestError>
/** 4100: the method needs a connected account (call `eth_requestAccounts` first), or the account is not ours. */
export const UnauthorizedError = /* @__PURE__ */ defineRpcError(
  'UnauthorizedError',
  4100,
  'The requested method and/or account has not been authorized by the user.',
)
export type UnauthorizedError = InstanceType<typeof UnauthorizedError>
/** 4200: the provider does not support the method. */
export const UnsupportedMethodError = /* @__PURE__ */ defineRpcError(
  'UnsupportedMethodError',
  4200,
  'The provider does not support the requested method.',
)
export type UnsupportedMethodError = InstanceType<typeof UnsupportedMethodError>
/** 4900: the provider is disconnected from all chains. */
export const DisconnectedError = /* @__PURE__ */ defineRpcError(
  'DisconnectedError',
  4900,
  'The provider is disconnected from all chains.',
)
export type DisconnectedError = InstanceType<typeof DisconnectedError>
/** 4901: the provider is not connected to the requested chain. */
export const ChainDisconnectedError = /* @__PURE__ */ defineRpcError(
  'ChainDisconnectedError',
  4901,
  'The provider is not connected to the requested chain.',
)
export type ChainDisconnectedError = InstanceType<typeof ChainDisconnectedError>
/** 4902 (EIP-3326): the chain is not configured. */
export const UnknownChainError = /* @__PURE__ */ defineRpcError(
  'UnknownChainError',
  4902,
  'Unrecognized chain ID.',
)
export type UnknownChainError = InstanceType<typeof UnknownChainError>

// EIP-1474 / JSON-RPC 2.0 errors.
/** -32700: invalid JSON. */
export const ParseError = /* @__PURE__ */ defineRpcError('ParseError', -32700, 'Invalid JSON was received.')
export type ParseError = InstanceType<typeof ParseError>
/** -32600: the message is not a valid request. */
export const InvalidRequestError = /* @__PURE__ */ defineRpcError(
  'InvalidRequestError',
  -32600,
  'The request is not a valid request object.',
)
export type InvalidRequestError = InstanceType<typeof InvalidRequestError>
/** -32601: the method does not exist. */
export const MethodNotFoundError = /* @__PURE__ */ defineRpcError(
  'MethodNotFoundError',
  -32601,
  'The method does not exist or is not available.',
)
export type MethodNotFoundError = InstanceType<typeof MethodNotFoundError>
/** -32602: the params are malformed. */
export const InvalidParamsError = /* @__PURE__ */ defineRpcError(
  'InvalidParamsError',
  -32602,
  'Invalid method parameters.',
)
export type InvalidParamsError = InstanceType<typeof InvalidParamsError>
/** One side of a {@link ConflictingParamsError}: where a value was found in the request, and that value. */
export type ConflictingField = { field: string; value: string }

/**
 * -32602: the request states the same thing twice (its chain, its account, its calldata) with two different
 * values, e.g. a `wallet_sendCalls` whose `params[0].chainId` is not the chain of the request. Such a request is
 * refused as a whole: the wallet would otherwise show one value and act on the other. `fields` names both places
 * and their values (also in `data`, so the error survives `postMessage`).
 *
 * @example
 * ```ts
 * new ConflictingParamsError('chains', { field: 'request.chainId', value: '31337' }, {
 *   field: 'params[0].chainId', value: '0x7a6a (31338)' })
 * // "Conflicting chains in the request: request.chainId is 31337 but params[0].chainId is 0x7a6a (31338)."
 * ```
 */
export class ConflictingParamsError extends InvalidParamsError {
  override name = 'ConflictingParamsError'
  /** What the two places disagree on: `chains`, `accounts`, `calldata`. */
  readonly what: string
  readonly fields: readonly [ConflictingField, ConflictingField]

  constructor(what: string, a: ConflictingField, b: ConflictingField, options: BaseErrorOptions = {}) {
    super(`Conflicting ${what} in the request: ${a.field} is ${a.value} but ${b.field} is ${b.value}.`, {
      ...options,
      data: { reason: 'conflicting_params', what, fields: [a, b] },
    })
    this.what = what
    this.fields = [a, b]
  }
}

/** -32603: internal error. */
export const InternalError = /* @__PURE__ */ defineRpcError('InternalError', -32603, 'Internal error.')
export type InternalError = InstanceType<typeof InternalError>
/** -32003: the transaction was rejected (e.g. it reverted in simulation). */
export const TransactionRejectedError = /* @__PURE__ */ defineRpcError(
  'TransactionRejectedError',
  -32003,
  'The transaction was rejected.',
)
export type TransactionRejectedError = InstanceType<typeof TransactionRejectedError>

// EIP-5792 errors.
/** 5700: a required capability is not supported. */
export const UnsupportedNonOptionalCapabilityError = /* @__PURE__ */ defineRpcError(
  'UnsupportedNonOptionalCapabilityError',
  5700,
  'The wallet does not support a capability that was not marked optional.',
)
export type UnsupportedNonOptionalCapabilityError = InstanceType<typeof UnsupportedNonOptionalCapabilityError>
/** 5710: the chain of the batch is not supported. */
export const UnsupportedChainIdError = /* @__PURE__ */ defineRpcError(
  'UnsupportedChainIdError',
  5710,
  'The wallet does not support the requested chain ID.',
)
export type UnsupportedChainIdError = InstanceType<typeof UnsupportedChainIdError>
/** 5720: a batch with this id already exists. */
export const DuplicateIdError = /* @__PURE__ */ defineRpcError(
  'DuplicateIdError',
  5720,
  'There is already a bundle submitted with this ID.',
)
export type DuplicateIdError = InstanceType<typeof DuplicateIdError>
/** 5730: no batch with this id is known. */
export const UnknownBundleIdError = /* @__PURE__ */ defineRpcError(
  'UnknownBundleIdError',
  5730,
  'This bundle ID is unknown.',
)
export type UnknownBundleIdError = InstanceType<typeof UnknownBundleIdError>
/** 5740: too many calls in the batch. */
export const BundleTooLargeError = /* @__PURE__ */ defineRpcError(
  'BundleTooLargeError',
  5740,
  'The call bundle is too large.',
)
export type BundleTooLargeError = InstanceType<typeof BundleTooLargeError>
/** 5760: atomicity was required and can't be provided. */
export const AtomicityNotSupportedError = /* @__PURE__ */ defineRpcError(
  'AtomicityNotSupportedError',
  5760,
  'The wallet does not support atomic execution but the request requires it.',
)
export type AtomicityNotSupportedError = InstanceType<typeof AtomicityNotSupportedError>

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
