/**
 * The history source the dashboard shows (docs/dashboard.md, "History"): per configured chain, its indexer in front
 * of its node logs where the chain names an `indexerUrl`, else its node logs; every chain merged.
 */
import type { Address } from 'viem'
import { getBatchClient } from '../chains'
import { logsFrom, type SsoChainConfig } from '../config'
import { withFallback } from './fallback'
import type { HistorySource } from './HistorySource'
import { createIndexerSource } from './indexer'
import { mergeSources } from './merged'
import { createNodeLogsSource } from './nodeLogs'

/**
 * @example
 * ```ts
 * const history = accountHistory(config.chains, account)
 * const first = await history.page(undefined, 20)
 * ```
 */
export function accountHistory(chains: readonly SsoChainConfig[], account: Address): HistorySource {
  return mergeSources(
    chains.map((chain) => {
      const historyChain = { id: chain.id, contracts: chain.contracts, tokens: chain.tokens }
      const rpc = getBatchClient(chain)
      const node = createNodeLogsSource({ chain: historyChain, account, rpc, fromBlock: logsFrom(chain) })
      return {
        chainId: chain.id,
        source: chain.indexerUrl
          ? withFallback(
              createIndexerSource({ chain: historyChain, account, url: chain.indexerUrl, rpc }),
              node,
            )
          : node,
      }
    }),
  )
}
