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

export * from './ErrorSerialization.js'
export * from './RpcErrors.js'
