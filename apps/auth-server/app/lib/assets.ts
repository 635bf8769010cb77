/**
 * The account's assets (dashboard, docs/dashboard.md): ETH and the configured ERC-20s of every chain, read in one
 * JSON-RPC batch per chain; a chain that does not answer is an error for that chain only. Totals add the same
 * token (same symbol and decimals) across chains.
 */
import { type Address, erc20Abi } from 'viem'
import { getBatchClient } from './chains'
import type { SsoChainConfig } from './config'

/** ETH or a configured ERC-20 of a chain. */
export type Asset = {
  /** undefined for ETH. */
  address: Address | undefined
  name: string
  symbol: string
  decimals: number
}

export const ether: Asset = { address: undefined, name: 'Ether', symbol: 'ETH', decimals: 18 }

/** The balances of one chain, or why it has none. */
export type ChainAssets =
  | { chainId: number; chainName: string; ok: true; balances: { asset: Asset; balance: bigint }[] }
  | { chainId: number; chainName: string; ok: false; error: string }

/** A token's total over every chain that answered. */
export type AssetTotal = { asset: Asset; total: bigint; chains: number }

/** The assets a chain lists: ETH first, then its `tokens` (docs/interfaces.md). */
export function assetsOf(chain: SsoChainConfig): Asset[] {
  return [ether, ...chain.tokens.map((t) => ({ ...t }))]
}

/**
 * Reads every balance of `address` on `chain` in one batch. Never throws: an unreachable chain (or a token that
 * does not answer `balanceOf`) gives `{ ok: false, error }` for this chain.
 *
 * @example
 * ```ts
 * const assets = await readChainAssets(chain, account)
 * ```
 */
export async function readChainAssets(chain: SsoChainConfig, address: Address): Promise<ChainAssets> {
  const client = getBatchClient(chain)
  const assets = assetsOf(chain)
  try {
    const balances = await Promise.all(
      assets.map((asset) =>
        asset.address
          ? client.readContract({
              address: asset.address,
              abi: erc20Abi,
              functionName: 'balanceOf',
              args: [address],
            })
          : client.getBalance({ address }),
      ),
    )
    return {
      chainId: chain.id,
      chainName: chain.name,
      ok: true,
      balances: assets.map((asset, i) => ({ asset, balance: balances[i]! })),
    }
  } catch (error) {
    return { chainId: chain.id, chainName: chain.name, ok: false, error: firstLine(error) }
  }
}

/**
 * Totals per token over the chains that answered, in the order first seen (ETH first). Tokens are the same when
 * symbol and decimals agree (the same token has different addresses on different chains in general).
 *
 * @example
 * ```ts
 * totals([chainA, chainB]) // [{ asset: ETH, total, chains: 2 }, { asset: DUSD, total, chains: 2 }]
 * ```
 */
export function totals(chains: readonly ChainAssets[]): AssetTotal[] {
  const byKey = new Map<string, AssetTotal>()
  for (const chain of chains) {
    if (!chain.ok) continue
    for (const { asset, balance } of chain.balances) {
      const key = `${asset.symbol}:${asset.decimals}`
      const entry = byKey.get(key)
      if (entry) {
        entry.total += balance
        entry.chains += 1
      } else byKey.set(key, { asset, total: balance, chains: 1 })
    }
  }
  return [...byKey.values()]
}

/** The first line of an error's message (viem's messages carry many). */
export function firstLine(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string }
  return (e?.shortMessage ?? e?.message ?? String(error)).split('\n')[0] ?? String(error)
}
