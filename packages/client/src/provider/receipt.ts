/**
 * Userop receipts from the bundler: how the provider finishes a request whose popup went away after sending it
 * (docs/architecture.md, section 4), and what `wallet_getCallsStatus` reads.
 */
import { InternalError, TransactionRejectedError } from '../Errors.js'
import { rpcRequest } from '../internal/rpc.js'

export type UserOperationReceipt = {
  success: boolean
  reason?: string
  actualGasUsed?: `0x${string}`
  logs?: { address: `0x${string}`; data: `0x${string}`; topics: `0x${string}`[] }[]
  receipt: {
    blockHash: `0x${string}`
    blockNumber: `0x${string}`
    gasUsed: `0x${string}`
    transactionHash: `0x${string}`
  }
}

/** The receipt of userOp `hash`, or null while the bundler has none. */
export function getReceipt(bundlerUrl: string, hash: string): Promise<UserOperationReceipt | null> {
  return rpcRequest(bundlerUrl, 'eth_getUserOperationReceipt', [hash]) as Promise<UserOperationReceipt | null>
}

/** How long the provider waits for the receipt of a userOp the popup sent (the popup waits as long). */
export const receiptTimeout = 60_000

/**
 * Polls the bundler until userOp `hash` is included. A revert is -32003 (as the popup reports it); no receipt
 * within `timeout` is -32603 naming the userOp, so the dapp can look it up later (`wallet_getCallsStatus`).
 */
export async function waitForReceipt(
  bundlerUrl: string,
  hash: `0x${string}`,
  options: { timeout?: number; interval?: number } = {},
): Promise<UserOperationReceipt> {
  const timeout = options.timeout ?? receiptTimeout
  const interval = options.interval ?? 500
  const deadline = Date.now() + timeout
  for (;;) {
    const receipt = await getReceipt(bundlerUrl, hash).catch(() => null)
    if (receipt) {
      if (!receipt.success)
        throw new TransactionRejectedError(
          `The user operation ${hash} reverted on chain (${receipt.reason ?? 'no reason'}).`,
          {
            data: { reason: 'reverted', userOpHash: hash, transactionHash: receipt.receipt.transactionHash },
          },
        )
      return receipt
    }
    if (Date.now() >= deadline)
      throw new InternalError(
        `The user operation ${hash} was sent but not included within ${Math.round(timeout / 1000)} s.`,
        { data: { reason: 'not-included', userOpHash: hash } },
      )
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
