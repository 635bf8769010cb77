/**
 * `wallet_getCallsStatus` (EIP-5792): the status of a batch, read from the bundler's userOp receipt. Never pending
 * forever (docs/interfaces.md, "Batch status"): 200 included, 500 reverted, 400 for a batch this provider sent
 * that has no receipt and that the bundler no longer knows {@link droppedAfter} after sending (dropped from its
 * mempool, or never accepted), or that has no receipt at all {@link pendingAtMost} after sending.
 */
import { UnknownBundleIdError } from '../Errors.js'
import { toQuantity } from '../internal/hex.js'
import { rpcRequest } from '../internal/rpc.js'
import { CallsStatus } from '../RpcSchema.js'
import { providerParams } from './params.js'
import { getReceipt } from './receipt.js'
import type { Handler } from './types.js'

/** Ms after sending from which a batch without receipt that the bundler does not know is 400. */
export const droppedAfter = 2 * 60_000
/** Ms after sending from which a batch without receipt is 400 whatever the bundler says. */
export const pendingAtMost = 10 * 60_000

export const getCallsStatus: Handler = async (context, params) => {
  const [id] = providerParams('wallet_getCallsStatus', params)
  const known = context.calls.get(id)
  const chainId = known?.chainId ?? context.connection.chainId
  const hash = known?.hash ?? id
  const { bundlerUrl } = context.chain(chainId)
  const receipt = await getReceipt(bundlerUrl, hash)
  const base = { version: '2.0.0', id, chainId: toQuantity(chainId), atomic: true }
  if (!receipt) {
    const age = known?.sentAt === undefined ? undefined : Date.now() - known.sentAt
    if (age !== undefined && age >= pendingAtMost) return { ...base, status: CallsStatus.offchainFailure }
    if (known === undefined || (age !== undefined && age >= droppedAfter)) {
      const op = await rpcRequest(bundlerUrl, 'eth_getUserOperationByHash', [hash]).catch(() => null)
      if (!op && known === undefined) throw new UnknownBundleIdError(`No batch with id ${id} is known.`)
      if (!op) return { ...base, status: CallsStatus.offchainFailure }
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
