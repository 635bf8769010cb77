/**
 * `wallet_getCallsStatus` (EIP-5792): the status of a batch, read from the bundler's userOp receipt.
 */
import { UnknownBundleIdError } from '../Errors.js'
import { toQuantity } from '../internal/hex.js'
import { rpcRequest } from '../internal/rpc.js'
import { CallsStatus } from '../RpcSchema.js'
import { providerParams } from './params.js'
import type { Handler } from './types.js'

type UserOperationReceipt = {
  success: boolean
  actualGasUsed?: `0x${string}`
  logs?: { address: `0x${string}`; data: `0x${string}`; topics: `0x${string}`[] }[]
  receipt: {
    blockHash: `0x${string}`
    blockNumber: `0x${string}`
    gasUsed: `0x${string}`
    transactionHash: `0x${string}`
  }
}

export const getCallsStatus: Handler = async (context, params) => {
  const [id] = providerParams('wallet_getCallsStatus', params)
  const known = context.calls.get(id)
  const chainId = known?.chainId ?? context.connection.chainId
  const hash = known?.hash ?? id
  const { bundlerUrl } = context.chain(chainId)
  const receipt = (await rpcRequest(bundlerUrl, 'eth_getUserOperationReceipt', [
    hash,
  ])) as UserOperationReceipt | null
  const base = { version: '2.0.0', id, chainId: toQuantity(chainId), atomic: true }
  if (!receipt) {
    if (known === undefined) {
      const op = await rpcRequest(bundlerUrl, 'eth_getUserOperationByHash', [hash]).catch(() => null)
      if (!op) throw new UnknownBundleIdError(`No batch with id ${id} is known.`)
    }
    return { ...base, status: CallsStatus.pending }
  }
  return {
    ...base,
    status: receipt.success ? CallsStatus.confirmed : CallsStatus.reverted,
    receipts: [
      {
        logs: (receipt.logs ?? []).map((log) => ({
          address: log.address,
          data: log.data,
          topics: log.topics,
        })),
        status: receipt.success ? '0x1' : '0x0',
        blockHash: receipt.receipt.blockHash,
        blockNumber: receipt.receipt.blockNumber,
        gasUsed: receipt.actualGasUsed ?? receipt.receipt.gasUsed,
        transactionHash: receipt.receipt.transactionHash,
      },
    ],
  }
}
