/**
 * Chain and bundler reads every account kind needs: whether an account is deployed, and userOp fees priced the way
 * the bundler accepts them.
 */
import type { Address, Client, Hex } from 'viem'
import { estimateFeesPerGas, getCode } from 'viem/actions'

/** Whether the account has code (is deployed). */
export async function isDeployed(client: Client, address: Address): Promise<boolean> {
  const code = await getCode(client, { address })
  return code !== undefined && code !== '0x'
}

/**
 * Fees per gas for a userOp, priced the way the bundler accepts them: the bundler's
 * `pimlico_getUserOperationGasPrice` (Alto) when it answers, else the chain's EIP-1559 estimate. Use it as
 * `createBundlerClient({ userOperation: { estimateFeesPerGas: estimateUserOperationFees } })`. The chain's estimate
 * alone runs away on a devnet: anvil suggests the lowest tip of the latest block, and every bundle pays a higher
 * tip than the userOp it carries, so each userOp would be priced above the last.
 *
 * @example
 * const bundler = createBundlerClient({
 *   client,
 *   transport: http(bundlerUrl),
 *   userOperation: { estimateFeesPerGas: estimateUserOperationFees },
 * })
 */
export async function estimateUserOperationFees(parameters: {
  bundlerClient: Client
}): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
  const { bundlerClient } = parameters
  try {
    const prices = (await bundlerClient.request({
      method: 'pimlico_getUserOperationGasPrice',
    } as never)) as { fast: { maxFeePerGas: Hex; maxPriorityFeePerGas: Hex } }
    return {
      maxFeePerGas: BigInt(prices.fast.maxFeePerGas),
      maxPriorityFeePerGas: BigInt(prices.fast.maxPriorityFeePerGas),
    }
  } catch {
    // Not Alto (or no such method): the chain's own estimate, from the chain client behind the bundler client.
    const chainClient = (bundlerClient as { client?: Client }).client ?? bundlerClient
    return estimateFeesPerGas(chainClient, { chain: chainClient.chain, type: 'eip1559' })
  }
}
