/**
 * The history source the dashboard shows (docs/dashboard.md, "History"): the node-logs source of every configured
 * chain, merged. An indexer source plugs in here, behind the same `HistorySource`.
 */
import type { Address } from 'viem'
import { getBatchClient } from '../chains'
import type { SsoChainConfig } from '../config'
import type { HistorySource } from './HistorySource'
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
    chains.map((chain) => ({
      chainId: chain.id,
      source: createNodeLogsSource({
        chain: { id: chain.id, contracts: chain.contracts, tokens: chain.tokens },
        account,
        rpc: getBatchClient(chain),
      }),
    })),
  )
}
