/**
 * THE popup protocol (docs/architecture.md, section 4): one valibot schema per message and per RPC method, validated on both sides
 * of `postMessage`. The auth server imports this module as `@sso/client/schema`.
 *
 * Messages, dapp -> popup:
 *   - {@link Request}: `{ id, method, params, chainId }`, `method` one of {@link popupMethods}.
 * Messages, popup -> dapp:
 *   - {@link Ready}: `{ type: 'ready' }`, the popup is listening (sent on load; sent again after a reload).
 *   - {@link Closing}: `{ type: 'closing' }`, the popup is going away (pagehide); pending requests fail with 4001.
 *   - {@link Response}: `{ id, result }` or `{ id, error: { code, message, data? } }`.
 *
 * Provider params ({@link providerMethods}) cover the methods the dapp may call on the EIP-1193 provider; malformed
 * params give -32602 ({@link InvalidParamsError}).
 */
import { sessionSpecBounds } from '@sso/contracts-abi'
import * as v from 'valibot'
import {
  ConflictingParamsError,
  InvalidParamsError,
  InvalidRequestError,
  MethodNotFoundError,
  type RpcError,
} from './Errors.js'

// ---------------------------------------------------------------------------------------------------------------
// Primitives

/** `0x`-prefixed hex string (any length, even or odd). */
export const Hex = v.custom<`0x${string}`>(
  (value) => typeof value === 'string' && /^0x[0-9a-fA-F]*$/.test(value),
  'Expected a 0x-prefixed hex string',
)
/** 20-byte address (any case; checksums are not enforced). */
export const Address = v.custom<`0x${string}`>(
  (value) => typeof value === 'string' && /^0x[0-9a-fA-F]{40}$/.test(value),
  'Expected a 20-byte 0x-prefixed address',
)
/** 32-byte hash. */
export const Hash = v.custom<`0x${string}`>(
  (value) => typeof value === 'string' && /^0x[0-9a-fA-F]{64}$/.test(value),
  'Expected a 32-byte 0x-prefixed hash',
)
/** JSON-RPC quantity: `0x`-prefixed hex number (`0x0`, `0x1a`, …). */
export const Quantity = v.custom<`0x${string}`>(
  (value) => typeof value === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(value),
  'Expected a 0x-prefixed hex quantity',
)
/** Chain id inside the envelope: a positive safe integer. */
export const ChainId = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER))
/** Request id: a non-empty string (the client uses `crypto.randomUUID()`). */
export const RequestId = v.pipe(v.string(), v.minLength(1), v.maxLength(128))

// ---------------------------------------------------------------------------------------------------------------
// Shared shapes

/** EIP-5792 capabilities object: `{ [name]: { optional?: boolean, ... } }`. */
export const Capabilities = v.record(v.string(), v.looseObject({ optional: v.optional(v.boolean()) }))
export type Capabilities = v.InferOutput<typeof Capabilities>

/** A call (to, data, value) as in `eth_sendTransaction` / `wallet_sendCalls`. `to` is required (no deployments). */
export const Call = v.object({
  to: Address,
  data: v.optional(Hex),
  value: v.optional(Quantity),
  capabilities: v.optional(Capabilities),
})
export type Call = v.InferOutput<typeof Call>

/**
 * `eth_sendTransaction` transaction object. Gas and fee fields are accepted (viem sends them) and ignored: the
 * wallet sends a userOp and estimates its own gas.
 */
export const TransactionRequest = v.looseObject({
  from: v.optional(Address),
  to: Address,
  data: v.optional(Hex),
  input: v.optional(Hex),
  value: v.optional(Quantity),
  gas: v.optional(Quantity),
  nonce: v.optional(Quantity),
  chainId: v.optional(Quantity),
})
export type TransactionRequest = v.InferOutput<typeof TransactionRequest>

/** EIP-5792 v2 `wallet_sendCalls` params object. */
export const SendCallsParameters = v.object({
  version: v.string(),
  id: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  from: v.optional(Address),
  chainId: Quantity,
  atomicRequired: v.boolean(),
  calls: v.pipe(v.array(Call), v.minLength(1), v.maxLength(100)),
  capabilities: v.optional(Capabilities),
})
export type SendCallsParameters = v.InferOutput<typeof SendCallsParameters>

const TypedDataParameter = v.object({ name: v.string(), type: v.string() })
/** EIP-712 typed data (`eth_signTypedData_v4`), as an object. */
export const TypedData = v.object({
  types: v.record(v.string(), v.array(TypedDataParameter)),
  primaryType: v.pipe(v.string(), v.minLength(1)),
  domain: v.optional(
    v.looseObject({
      name: v.optional(v.string()),
      version: v.optional(v.string()),
      chainId: v.optional(v.union([v.number(), v.string(), v.bigint()])),
      verifyingContract: v.optional(Address),
      salt: v.optional(Hex),
    }),
  ),
  message: v.record(v.string(), v.unknown()),
})
export type TypedData = v.InferOutput<typeof TypedData>

/** Typed data as sent by dapps: a JSON string (viem, MetaMask convention) or an object; parsed to {@link TypedData}. */
export const TypedDataInput = v.pipe(
  v.union([v.string(), v.looseObject({})]),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    if (typeof dataset.value !== 'string') return dataset.value
    try {
      return JSON.parse(dataset.value) as unknown
    } catch {
      addIssue({ message: 'Typed data is not valid JSON' })
      return NEVER
    }
  }),
  TypedData,
)

/** EIP-5792 call receipt (`wallet_getCallsStatus`). */
export const CallReceipt = v.object({
  logs: v.array(v.object({ address: Address, data: Hex, topics: v.array(Hex) })),
  status: Hex,
  blockHash: Hash,
  blockNumber: Quantity,
  gasUsed: Quantity,
  transactionHash: Hash,
})
export type CallReceipt = v.InferOutput<typeof CallReceipt>

// ---------------------------------------------------------------------------------------------------------------
// Sessions (SessionKeyValidator), as they cross postMessage: amounts are JSON-RPC quantities (no bigints on the
// wire). The semantic rules (expiry, signer, banned targets, fee limit) are `validateSessionSpec` in
// `@sso/client/session`, run by the client before sending and again by the popup. Both take their bounds from
// `sessionSpecBounds` of `@sso/contracts-abi`.

const ExpiresAt = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(sessionSpecBounds.maxExpiresAt))
const AllowancePeriod = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(1),
  v.maxValue(sessionSpecBounds.maxAllowancePeriod),
)
/** 4-byte function selector. */
export const Selector = v.custom<`0x${string}`>(
  (value) => typeof value === 'string' && /^0x[0-9a-fA-F]{8}$/.test(value),
  'Expected a 4-byte 0x-prefixed selector',
)
/** How an amount is capped: not at all, over the session's life, or per period of `period` seconds. */
export const SessionUsageLimit = v.variant('type', [
  v.object({ type: v.literal('unlimited') }),
  v.object({ type: v.literal('lifetime'), limit: Quantity }),
  v.object({ type: v.literal('allowance'), limit: Quantity, period: AllowancePeriod }),
])
/** Comparison of a calldata word with `refValue` (SessionKeyValidator `Condition`). */
export const SessionCondition = v.picklist([
  'unconstrained',
  'equal',
  'notEqual',
  'greater',
  'greaterOrEqual',
  'less',
  'lessOrEqual',
])
export const SessionConstraint = v.object({
  condition: SessionCondition,
  /** The calldata word at byte offset `4 + 32 * index`. */
  index: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(sessionSpecBounds.maxConstraintIndex)),
  refValue: Hash,
  limit: SessionUsageLimit,
})
export const SessionCallPolicy = v.object({
  target: Address,
  selector: Selector,
  maxValuePerUse: Quantity,
  valueLimit: SessionUsageLimit,
  constraints: v.pipe(v.array(SessionConstraint), v.maxLength(sessionSpecBounds.maxConstraints)),
})
export const SessionTransferPolicy = v.object({
  target: Address,
  maxValuePerUse: Quantity,
  valueLimit: SessionUsageLimit,
})
/** A session spec on the wire; `signer` is a 20-byte address (secp256k1) or a 64-byte P-256 key `x ‖ y`. */
export const SessionSpec = v.object({
  signer: Hex,
  expiresAt: ExpiresAt,
  feeLimit: SessionUsageLimit,
  callPolicies: v.pipe(v.array(SessionCallPolicy), v.maxLength(sessionSpecBounds.maxCallPolicies)),
  transferPolicies: v.pipe(
    v.array(SessionTransferPolicy),
    v.maxLength(sessionSpecBounds.maxTransferPolicies),
  ),
})
export type SessionSpecWire = v.InferOutput<typeof SessionSpec>

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
})
export type Request = v.InferOutput<typeof Request>

/** A request whose method is a popup method and whose params passed that method's schema. */
export type PopupRequest = {
  [method in PopupMethod]: { id: string; method: method; params: PopupParams<method>; chainId: number }
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

/** Any message the popup sends to the dapp. */
export const PopupMessage = v.union([Ready, Closing, ErrorResponse, SuccessResponse])
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
  const { id, method, params, chainId } = envelope.output
  if (!isPopupMethod(method))
    return { success: false, id, error: new MethodNotFoundError(`The popup does not handle "${method}".`) }
  const parsed = parseParams(method, params)
  if (!parsed.success) return { success: false, id, error: parsed.error }
  return { success: true, request: { id, method, params: parsed.params, chainId } as PopupRequest }
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

// ---------------------------------------------------------------------------------------------------------------
// One value, one place

/**
 * The places where a popup request states one thing twice. The wallet shows one of them and acts on the other,
 * so they must agree; {@link findConflict} refuses the request otherwise.
 *
 * | method                 | first place          | second place                 | what it decides                        |
 * | ---------------------- | -------------------- | ---------------------------- | -------------------------------------- |
 * | `eth_sendTransaction`  | `request.chainId`    | `params[0].chainId`          | the chain the userOp is built for      |
 * | `eth_sendTransaction`  | `params[0].data`     | `params[0].input`            | the calldata executed                  |
 * | `wallet_sendCalls`     | `request.chainId`    | `params[0].chainId`          | the chain the userOp is built for      |
 * | `eth_signTypedData_v4` | `request.chainId`    | `params[1].domain.chainId`   | the chain the signature is valid on    |
 *
 * The account a request names (`from`, the address of `personal_sign` / `eth_signTypedData_v4`, the `address` of
 * `wallet_grantPermissions`) is compared with the connected account by the provider and with the logged-in account
 * by the popup (4100 when it is another account). No method states an amount twice: each call's `value` is the
 * only amount, and the popup shows the very `value` it executes.
 */
export const duplicatedFields = [
  { method: 'eth_sendTransaction', fields: ['request.chainId', 'params[0].chainId'] },
  { method: 'eth_sendTransaction', fields: ['params[0].data', 'params[0].input'] },
  { method: 'wallet_sendCalls', fields: ['request.chainId', 'params[0].chainId'] },
  { method: 'eth_signTypedData_v4', fields: ['request.chainId', 'params[1].domain.chainId'] },
] as const satisfies readonly { method: PopupMethod; fields: readonly [string, string] }[]

export type FindConflictOptions = {
  /**
   * How to name the request's chain in the message. Default `request.chainId` (the envelope, as the popup sees
   * it); the provider says `the provider's chain (eth_chainId)`, the chain it puts in the envelope.
   */
  chainField?: string | undefined
}

/**
 * Finds the first place where `request` states one thing twice with two values (see {@link duplicatedFields}):
 * a {@link ConflictingParamsError} (-32602) naming both fields and values, an {@link InvalidParamsError} when the
 * second place is not a chain id at all, or undefined when everything agrees. Run by the provider before it opens
 * the popup and by the popup on every request it receives (a hostile page can post any message). Never throws.
 *
 * @example
 * ```ts
 * findConflict({ id: '1', method: 'wallet_sendCalls', chainId: 31337,
 *   params: [{ version: '2.0.0', chainId: '0x7a6a', atomicRequired: true, calls: [{ to }] }] })
 * // ConflictingParamsError: Conflicting chains in the request: request.chainId is 31337 but
 * // params[0].chainId is 0x7a6a (31338).
 * ```
 */
export function findConflict(
  request: PopupRequest,
  options: FindConflictOptions = {},
): InvalidParamsError | undefined {
  const chain = { field: options.chainField ?? 'request.chainId', value: String(request.chainId) }
  const sameChain = (field: string, given: unknown): InvalidParamsError | undefined => {
    const id = chainIdOf(given)
    if (id === undefined)
      return new InvalidParamsError(`${field} is ${describeValue(given)}, which is not a chain id.`)
    if (id === BigInt(request.chainId)) return undefined
    const value = typeof given === 'string' && given.startsWith('0x') ? `${given} (${id})` : id.toString()
    return new ConflictingParamsError('chains', chain, { field, value })
  }
  switch (request.method) {
    case 'eth_sendTransaction': {
      const [tx] = request.params
      if (tx.chainId !== undefined) {
        const conflict = sameChain('params[0].chainId', tx.chainId)
        if (conflict) return conflict
      }
      if (tx.data !== undefined && tx.input !== undefined && tx.data.toLowerCase() !== tx.input.toLowerCase())
        return new ConflictingParamsError(
          'calldata',
          { field: 'params[0].data', value: shortHex(tx.data) },
          { field: 'params[0].input', value: shortHex(tx.input) },
        )
      return undefined
    }
    case 'wallet_sendCalls':
      return sameChain('params[0].chainId', request.params[0].chainId)
    case 'eth_signTypedData_v4': {
      const domain = request.params[1].domain
      if (domain?.chainId === undefined) return undefined
      return sameChain('params[1].domain.chainId', domain.chainId)
    }
    default:
      return undefined
  }
}

// A chain id as JSON-RPC and EIP-712 write it: a positive integer, a decimal or 0x-hex string, or a bigint.
function chainIdOf(value: unknown): bigint | undefined {
  let id: bigint | undefined
  if (typeof value === 'bigint') id = value
  else if (typeof value === 'number' && Number.isSafeInteger(value)) id = BigInt(value)
  else if (typeof value === 'string' && /^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(value)) id = BigInt(value)
  return id !== undefined && id > 0n ? id : undefined
}

function describeValue(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value)
  } catch {
    return typeof value
  }
}

// Calldata in a message: short values whole, long ones by their ends and length.
function shortHex(hex: string): string {
  if (hex.length <= 42) return hex
  return `${hex.slice(0, 18)}…${hex.slice(-8)} (${Math.ceil((hex.length - 2) / 2)} bytes)`
}
