/**
 * THE popup protocol (docs/architecture.md, section 4): one valibot schema per message and per RPC method, validated on both sides
 * of `postMessage`. The auth server imports this module as `@sso/client/schema`.
 *
 * Messages, dapp -> popup:
 *   - {@link Request}: `{ id, method, params, chainId, client? }`, `method` one of {@link popupMethods}.
 *   - {@link Leaving}: `{ type: 'leaving', client }`, the dapp page that sent `client`'s requests is going away
 *     (pagehide); the popup cancels them before anything is signed.
 * Messages, popup -> dapp:
 *   - {@link Ready}: `{ type: 'ready' }`, the popup is listening (sent on load; sent again after a reload).
 *   - {@link Closing}: `{ type: 'closing' }`, the popup is going away (pagehide); pending requests fail with 4001.
 *   - {@link Submitted}: `{ type: 'submitted', id, userOpHash, account, sessionId? }`, the request's userOp is with
 *     the bundler: from now on the dapp finishes the request itself if the popup goes away.
 *   - {@link Response}: `{ id, result }` or `{ id, error: { code, message, data? } }`.
 *
 * Provider params ({@link providerMethods}) cover the methods the dapp may call on the EIP-1193 provider; malformed
 * params give -32602 ({@link InvalidParamsError}). The values the messages are made of live in RpcShapes.ts, the
 * one-value-one-place check in RpcConflicts.ts; this module re-exports both.
 */
import * as v from 'valibot'
import { InvalidParamsError, InvalidRequestError, MethodNotFoundError, type RpcError } from './Errors.js'
import {
  Address,
  Capabilities,
  ChainId,
  Hash,
  Hex,
  ModuleChange,
  ModuleTypeName,
  Quantity,
  RequestId,
  SendCallsParameters,
  SessionSpec,
  TransactionRequest,
  TypedDataInput,
} from './RpcShapes.js'

export { duplicatedFields, type FindConflictOptions, findConflict } from './RpcConflicts.js'
// The values the messages are made of, all of them part of the protocol.
export * from './RpcShapes.js'

// ---------------------------------------------------------------------------------------------------------------
// Methods handled by the popup: one schema for params, one for the result.

/**
 * The RPC methods the popup answers. Params are validated by the popup (and before sending, by the provider);
 * results are validated by the client when they come back.
 *
 * - `eth_requestAccounts`: sign up / log in. Params `[]` (or absent). Result {@link ConnectResult}.
 * - `eth_sendTransaction`: one call sent as a userOp. Params `[tx, capabilities?]` (capabilities as in
 *   `wallet_sendCalls`, e.g. `paymasterService`). Result: the hash of the transaction that included the userOp,
 *   once it is included.
 * - `wallet_sendCalls`: atomic batch as one userOp. Params `[SendCallsParameters]`. Result `{ id }` where `id` is
 *   the userOp hash (the client reads its status from the bundler).
 * - `wallet_showCallsStatus`: show a batch to the user. Params `[id]`. Result `null` once the user dismisses it.
 * - `personal_sign`: Params `[message, address]`. Result: ERC-1271 signature (ERC-6492-wrapped when undeployed).
 * - `eth_signTypedData_v4`: Params `[address, typedData]`. Result: same as `personal_sign`.
 *
 * - `wallet_grantPermissions`: create a session (ERC-7715-style). Params `[{ spec, address? }]` with a complete
 *   {@link SessionSpec} (the dapp's session public key in `spec.signer`; never a private key). The popup shows the
 *   summary, and on approval sends a passkey-signed userOp calling `SessionKeyValidator.createSession(spec)`
 *   (deploying the account if needed). Result `{ sessionId, account, chainId, transactionHash }` once included.
 * - `wallet_revokePermissions`: Params `[{ id }]` (one session) or `[{ all: true }]`. Passkey-signed userOp calling
 *   `revokeSession(id)` / `revokeAllSessions()`. Result `{ transactionHash }` once included.
 * - `wallet_installModule` / `wallet_uninstallModule`: Params `[{ type, address, data?, from? }]`
 *   ({@link ModuleChange}). The popup shows the module (its name when it is one of ours, a warning otherwise) and
 *   sends a passkey-signed userOp in which the account calls its own `installModule` / `uninstallModule`; it
 *   refuses (-32602, nothing sent) hooks and uninstalling the last validator that can sign (docs/modules.md).
 *   Result `{ transactionHash }` once included.
 */
export const popupMethods = {
  eth_requestAccounts: {
    params: v.optional(v.strictTuple([])),
    result: v.object({
      accounts: v.pipe(v.array(Address), v.minLength(1)),
      chainId: ChainId,
    }),
  },
  eth_sendTransaction: {
    params: v.union([v.tuple([TransactionRequest, Capabilities]), v.tuple([TransactionRequest])]),
    result: Hash,
  },
  wallet_sendCalls: {
    params: v.tuple([SendCallsParameters]),
    result: v.object({
      id: v.pipe(v.string(), v.minLength(1)),
      capabilities: v.optional(v.record(v.string(), v.unknown())),
    }),
  },
  wallet_showCallsStatus: {
    params: v.tuple([v.pipe(v.string(), v.minLength(1))]),
    result: v.null(),
  },
  personal_sign: {
    params: v.tuple([Hex, Address]),
    result: Hex,
  },
  eth_signTypedData_v4: {
    params: v.tuple([Address, TypedDataInput]),
    result: Hex,
  },
  wallet_grantPermissions: {
    params: v.tuple([v.object({ spec: SessionSpec, address: v.optional(Address) })]),
    result: v.object({ sessionId: Hash, account: Address, chainId: ChainId, transactionHash: Hash }),
  },
  wallet_revokePermissions: {
    params: v.tuple([v.union([v.object({ id: Hash }), v.object({ all: v.literal(true) })])]),
    result: v.object({ transactionHash: Hash }),
  },
  wallet_installModule: {
    params: v.tuple([ModuleChange]),
    result: v.object({ transactionHash: Hash }),
  },
  wallet_uninstallModule: {
    params: v.tuple([ModuleChange]),
    result: v.object({ transactionHash: Hash }),
  },
} as const

export type PopupMethod = keyof typeof popupMethods
export type PopupParams<method extends PopupMethod> = v.InferOutput<(typeof popupMethods)[method]['params']>
/** Params as the dapp may send them (e.g. typed data as a JSON string). */
export type PopupParamsInput<method extends PopupMethod> = v.InferInput<
  (typeof popupMethods)[method]['params']
>
export type PopupResult<method extends PopupMethod> = v.InferOutput<(typeof popupMethods)[method]['result']>
export type ConnectResult = PopupResult<'eth_requestAccounts'>
export const ConnectResult = popupMethods.eth_requestAccounts.result

// ---------------------------------------------------------------------------------------------------------------
// Methods handled by the provider itself (no popup) — params only. Results are plain JSON-RPC values.

/** Params of every method the provider answers itself (popup methods have their schema in {@link popupMethods}). */
export const providerMethods = {
  eth_accounts: { params: v.optional(v.strictTuple([])) },
  eth_chainId: { params: v.optional(v.strictTuple([])) },
  wallet_switchEthereumChain: { params: v.tuple([v.looseObject({ chainId: Quantity })]) },
  wallet_getCallsStatus: { params: v.tuple([v.pipe(v.string(), v.minLength(1))]) },
  wallet_getCapabilities: {
    params: v.optional(
      v.union([v.strictTuple([]), v.strictTuple([Address]), v.tuple([Address, v.array(Quantity)])]),
    ),
  },
  wallet_disconnect: { params: v.optional(v.strictTuple([])) },
  /** The connected account's modules (or `account`'s), read from the chain: `[{ type, address }]`. */
  wallet_getModules: {
    params: v.optional(
      v.union([v.strictTuple([]), v.strictTuple([v.strictObject({ account: v.optional(Address) })])]),
    ),
  },
  /** Whether a module is installed (fallbacks: `context` = the selector), read from the chain: a boolean. */
  wallet_isModuleInstalled: {
    params: v.strictTuple([
      v.strictObject({
        type: ModuleTypeName,
        address: Address,
        context: v.optional(Hex),
        account: v.optional(Address),
      }),
    ]),
  },
} as const
export type ProviderMethod = keyof typeof providerMethods

/** EIP-5792 v2 status codes of `wallet_getCallsStatus`. */
export const CallsStatus = {
  /** Batch received, not yet completed on chain. */
  pending: 100,
  /** Included on chain without reverts. */
  confirmed: 200,
  /** Not included on chain, the wallet will not retry. */
  offchainFailure: 400,
  /** Reverted completely (atomic batch reverted). */
  reverted: 500,
  /** Reverted partially. */
  partiallyReverted: 600,
} as const

// ---------------------------------------------------------------------------------------------------------------
// Envelope and control messages

/** Dapp -> popup request envelope. `params` is checked per method by {@link parseRequest}. */
export const Request = v.object({
  id: RequestId,
  method: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  params: v.optional(v.unknown()),
  chainId: ChainId,
  /** The client instance (one per `createPopup`): its requests are cancelled together when it leaves. */
  client: v.optional(RequestId),
})
export type Request = v.InferOutput<typeof Request>

/** Dapp -> popup: the client instance `client` is going away (its page unloads); nobody will read its answers. */
export const Leaving = v.object({ type: v.literal('leaving'), client: RequestId })
export type Leaving = v.InferOutput<typeof Leaving>

/** A request whose method is a popup method and whose params passed that method's schema. */
export type PopupRequest = {
  [method in PopupMethod]: {
    id: string
    method: method
    params: PopupParams<method>
    chainId: number
    client?: string | undefined
  }
}[PopupMethod]

/** Error object of a response (JSON-RPC): `{ code, message, data? }`. */
export const ErrorObject = v.object({
  code: v.pipe(v.number(), v.integer()),
  message: v.string(),
  data: v.optional(v.unknown()),
})

/** Popup -> dapp answer: `{ id, result }`. */
export const SuccessResponse = v.object({ id: RequestId, result: v.unknown() })
/** Popup -> dapp answer: `{ id, error }`. */
export const ErrorResponse = v.object({ id: RequestId, error: ErrorObject })
/** Popup -> dapp answer. Discriminated by the presence of `error`. */
export const Response = v.union([ErrorResponse, SuccessResponse])
export type Response = v.InferOutput<typeof Response>

/** Popup -> dapp: the popup listens and wants the pending requests. */
export const Ready = v.object({ type: v.literal('ready') })
/** Popup -> dapp: the popup is closing (pagehide); the dapp rejects what is pending with 4001. */
export const Closing = v.object({ type: v.literal('closing') })

/** A signed ERC-4337 v0.8 user operation in its JSON-RPC form (what `eth_sendUserOperation` takes). */
export const SignedUserOperation = v.object({
  sender: Address,
  nonce: Quantity,
  factory: v.optional(Address),
  factoryData: v.optional(Hex),
  callData: Hex,
  callGasLimit: Quantity,
  verificationGasLimit: Quantity,
  preVerificationGas: Quantity,
  maxFeePerGas: Quantity,
  maxPriorityFeePerGas: Quantity,
  paymaster: v.optional(Address),
  paymasterVerificationGasLimit: v.optional(Quantity),
  paymasterPostOpGasLimit: v.optional(Quantity),
  paymasterData: v.optional(Hex),
  signature: Hex,
})
export type SignedUserOperation = v.InferOutput<typeof SignedUserOperation>

/**
 * Popup -> dapp: the userOp of request `id` is signed and going to the bundler (sent by `account`). From then on
 * the dapp gets the request's result even when the popup goes away: it hands the signed `userOperation` to the
 * bundler itself (the same operation: its nonce lets it run once, whoever sends it) and waits for the receipt
 * (docs/architecture.md, section 4). `sessionId` is the session a `wallet_grantPermissions` creates.
 */
export const Submitted = v.object({
  type: v.literal('submitted'),
  id: RequestId,
  userOpHash: Hash,
  account: Address,
  sessionId: v.optional(Hash),
  userOperation: v.optional(SignedUserOperation),
  entryPoint: v.optional(Address),
})
export type Submitted = v.InferOutput<typeof Submitted>

/** Any message the popup sends to the dapp. */
export const PopupMessage = v.union([Ready, Closing, Submitted, ErrorResponse, SuccessResponse])
export type PopupMessage = v.InferOutput<typeof PopupMessage>

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Result of {@link parseRequest}. `id` is present when the envelope had a usable id (so an error can be answered). */
export type ParseRequestResult =
  | { success: true; request: PopupRequest }
  | { success: false; id: string | undefined; error: RpcError }

/**
 * Validates a dapp -> popup message: the envelope, then the method (-32601 when it is not a popup method) and its
 * params (-32602). Never throws.
 *
 * @example
 * ```ts
 * const parsed = parseRequest(event.data)
 * if (parsed.success) handle(parsed.request)
 * else if (parsed.id) reply({ id: parsed.id, error: serializeError(parsed.error) })
 * ```
 */
export function parseRequest(data: unknown): ParseRequestResult {
  const envelope = v.safeParse(Request, data)
  if (!envelope.success) {
    const id = v.safeParse(v.object({ id: RequestId }), data)
    return {
      success: false,
      id: id.success ? id.output.id : undefined,
      error: new InvalidRequestError(undefined, { details: v.summarize(envelope.issues) }),
    }
  }
  const { id, method, params, chainId, client } = envelope.output
  if (!isPopupMethod(method))
    return { success: false, id, error: new MethodNotFoundError(`The popup does not handle "${method}".`) }
  const parsed = parseParams(method, params)
  if (!parsed.success) return { success: false, id, error: parsed.error }
  const request = { id, method, params: parsed.params, chainId, ...(client ? { client } : {}) }
  return { success: true, request: request as PopupRequest }
}

/**
 * Validates the params of a popup method; failure is an {@link InvalidParamsError} (-32602) naming the problem.
 *
 * @example
 * ```ts
 * const parsed = parseParams('personal_sign', ['0x68656c6c6f', address])
 * ```
 */
export function parseParams<method extends PopupMethod>(
  method: method,
  params: unknown,
): { success: true; params: PopupParams<method> } | { success: false; error: RpcError } {
  const schema = popupMethods[method].params as v.GenericSchema<unknown, PopupParams<method>>
  const parsed = v.safeParse(schema, params)
  if (parsed.success) return { success: true, params: parsed.output }
  return { success: false, error: invalidParams(method, parsed.issues) }
}

/**
 * Validates the result of a popup method (the dapp side checks what the popup answers).
 *
 * @example
 * ```ts
 * const parsed = parseResult('eth_requestAccounts', { accounts: [address], chainId: 31337 })
 * ```
 */
export function parseResult<method extends PopupMethod>(
  method: method,
  result: unknown,
): { success: true; result: PopupResult<method> } | { success: false; error: RpcError } {
  const schema = popupMethods[method].result as v.GenericSchema<unknown, PopupResult<method>>
  const parsed = v.safeParse(schema, result)
  if (parsed.success) return { success: true, result: parsed.output }
  return {
    success: false,
    error: new InvalidParamsError(`The popup answered "${method}" with a malformed result.`, {
      details: v.summarize(parsed.issues),
    }),
  }
}

/** Whether `method` is handled by the popup. */
export function isPopupMethod(method: string): method is PopupMethod {
  return Object.hasOwn(popupMethods, method)
}

/** Builds the -32602 error for a failed params schema. */
export function invalidParams(method: string, issues: readonly v.BaseIssue<unknown>[]): RpcError {
  return new InvalidParamsError(`Invalid params for "${method}".`, {
    details: v.summarize(issues as [v.BaseIssue<unknown>]),
  })
}
