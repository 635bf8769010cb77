/**
 * One value, one place: a popup request that states one thing twice must state it once (docs/interfaces.md,
 * "Popup protocol"). Run by the provider before the popup opens and by the popup on every request. Re-exported by
 * RpcSchema.ts.
 */
import { ConflictingParamsError, InvalidParamsError } from './Errors.js'
import type { PopupMethod, PopupRequest } from './RpcSchema.js'

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
