/**
 * The values the popup protocol is made of (docs/interfaces.md, "Popup protocol"): hex primitives, calls,
 * transactions, typed data, receipts, and session specs as they cross `postMessage`. Re-exported by RpcSchema.ts.
 */
import { sessionSpecBounds } from '@sso/contracts-abi'
import * as v from 'valibot'

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
// Modules (docs/modules.md)

/** An ERC-7579 module type by name (SsoAccount supports the first three; a hook is refused). */
export const ModuleTypeName = v.picklist(['validator', 'executor', 'fallback', 'hook'])

/**
 * The module of `wallet_installModule` / `wallet_uninstallModule`: its type, its address and the data its
 * `onInstall` / `onUninstall` gets (fallback handlers: the 4-byte selector first). `from`, when given, must be the
 * connected account.
 */
export const ModuleChange = v.strictObject({
  type: ModuleTypeName,
  address: Address,
  data: v.optional(Hex),
  from: v.optional(Address),
})
export type ModuleChange = v.InferOutput<typeof ModuleChange>
