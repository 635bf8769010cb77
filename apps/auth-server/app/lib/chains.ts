/** viem clients for the configured chains (one public client and one bundler client per chain, cached). */

import { estimateUserOperationFees } from '@sso/client/account'
import {
  type Address,
  type Chain,
  createPublicClient,
  defineChain,
  erc20Abi,
  http,
  type PublicClient,
} from 'viem'
import { type BundlerClient, createBundlerClient } from 'viem/account-abstraction'
import type { SsoChainConfig } from './config'

/** A viem `Chain` for a configured chain. */
function toViemChain(chain: SsoChainConfig): Chain {
  return defineChain({
    id: chain.id,
    name: chain.name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [chain.rpcUrl] } },
  })
}

const publicClients = new Map<string, PublicClient>()
const bundlerClients = new Map<string, BundlerClient>()

/** The public client of `chain` (cached per chain id and URL). */
export function getPublicClient(chain: SsoChainConfig): PublicClient {
  const key = `${chain.id}:${chain.rpcUrl}`
  let client = publicClients.get(key)
  if (!client) {
    client = createPublicClient({
      chain: toViemChain(chain),
      transport: http(chain.rpcUrl),
      pollingInterval: 250,
    })
    publicClients.set(key, client)
  }
  return client
}

const batchClients = new Map<string, PublicClient>()

/**
 * A public client of `chain` whose calls made in the same tick leave as one JSON-RPC batch (one HTTP request):
 * the dashboard's reads of a chain (balances, session states, logs of a block range) are one round trip.
 */
export function getBatchClient(chain: SsoChainConfig): PublicClient {
  const key = `${chain.id}:${chain.rpcUrl}`
  let client = batchClients.get(key)
  if (!client) {
    client = createPublicClient({
      chain: toViemChain(chain),
      transport: http(chain.rpcUrl, { batch: { batchSize: 500, wait: 0 }, retryCount: 0, timeout: 10_000 }),
      pollingInterval: 250,
    })
    batchClients.set(key, client)
  }
  return client
}

/** The bundler client of `chain` (no account bound: pass it per call). */
export function getBundlerClient(chain: SsoChainConfig): BundlerClient {
  const key = `${chain.id}:${chain.bundlerUrl}`
  let client = bundlerClients.get(key)
  if (!client) {
    client = createBundlerClient({
      client: getPublicClient(chain),
      transport: http(chain.bundlerUrl),
      pollingInterval: 250,
      userOperation: { estimateFeesPerGas: estimateUserOperationFees },
    })
    bundlerClients.set(key, client)
  }
  return client
}

/** An ERC-20's symbol and decimals (undefined when the target does not answer like an ERC-20). */
export async function tokenInfo(
  chain: SsoChainConfig,
  address: Address,
): Promise<{ symbol: string; decimals: number } | undefined> {
  // The chain's token list first (sso-config.json, docs/interfaces.md): known tokens need no read.
  const listed = chain.tokens?.find((t) => t.address.toLowerCase() === address.toLowerCase())
  if (listed) return { symbol: listed.symbol, decimals: listed.decimals }
  const client = getPublicClient(chain)
  try {
    const [symbol, decimals] = await Promise.all([
      client.readContract({ address, abi: erc20Abi, functionName: 'symbol' }),
      client.readContract({ address, abi: erc20Abi, functionName: 'decimals' }),
    ])
    return { symbol, decimals }
  } catch {
    return undefined
  }
}
