/**
 * Userop receipts from the bundler: how the provider finishes a request whose popup went away after sending it
 * (docs/architecture.md, section 4), and what `wallet_getCallsStatus` reads.
 */
import { InternalError, TransactionRejectedError } from '../Errors.js'
import { rpcRequest } from '../internal/rpc.js'
import type { Popup } from '../Popup.js'
import type { Submitted } from '../RpcSchema.js'

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

/**
 * The popup went away after it signed a userOp: the signed operation it handed over goes to the bundler from here
 * too, in case the popup's own send never left the window (closed mid-request). It is the same operation, so its
 * nonce lets it run once whoever sends it; the bundler's refusal of a copy it already has (or that is already
 * included) is expected and ignored. Nothing happens without a handed-over operation.
 */
export async function handOff(bundlerUrl: string, submitted: Submitted): Promise<void> {
  if (!submitted.userOperation || !submitted.entryPoint) return
  await rpcRequest(bundlerUrl, 'eth_sendUserOperation', [
    submitted.userOperation,
    submitted.entryPoint,
  ]).catch(() => undefined)
}

/** `popup` whose requests, when finished without the popup, first hand the signed userOp to the chain's bundler. */
export function withHandOff(popup: Popup, bundlerOf: (chainId: number) => string | undefined): Popup {
  return {
    get isOpen() {
      return popup.isOpen
    },
    get pendingCount() {
      return popup.pendingCount
    },
    close: () => popup.close(),
    destroy: () => popup.destroy(),
    request(method, params, chainId, options) {
      const finish = options?.finish
      const bundlerUrl = bundlerOf(chainId)
      if (!finish || !bundlerUrl) return popup.request(method, params, chainId, options)
      return popup.request(method, params, chainId, {
        ...options,
        finish: async (submitted) => {
          await handOff(bundlerUrl, submitted)
          return finish(submitted)
        },
      })
    },
  }
}
