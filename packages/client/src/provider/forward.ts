/**
 * Read-only methods, forwarded as they are to the current chain's RPC.
 */
import { InvalidParamsError } from '../Errors.js'
import { rpcRequest } from '../internal/rpc.js'
import type { Handler } from './types.js'

/** Read-only methods forwarded to the chain's RPC as they are. */
export const forwardedMethods = [
  'eth_blockNumber',
  'eth_call',
  'eth_estimateGas',
  'eth_feeHistory',
  'eth_gasPrice',
  'eth_blobBaseFee',
  'eth_maxPriorityFeePerGas',
  'eth_getBalance',
  'eth_getBlockByHash',
  'eth_getBlockByNumber',
  'eth_getBlockReceipts',
  'eth_getBlockTransactionCountByHash',
  'eth_getBlockTransactionCountByNumber',
  'eth_getCode',
  'eth_getLogs',
  'eth_getProof',
  'eth_getStorageAt',
  'eth_getTransactionByBlockHashAndIndex',
  'eth_getTransactionByBlockNumberAndIndex',
  'eth_getTransactionByHash',
  'eth_getTransactionCount',
  'eth_getTransactionReceipt',
  'eth_createAccessList',
  'eth_simulateV1',
  'eth_syncing',
  'net_listening',
  'net_version',
  'web3_clientVersion',
] as const

/** A handler that forwards `method` to the current chain's RPC. */
export function forward(method: string): Handler {
  return (context, params) => {
    if (params !== undefined && !Array.isArray(params))
      throw new InvalidParamsError(`Params of "${method}" must be an array.`)
    return rpcRequest(context.chain().rpcUrl, method, params ?? [])
  }
}
