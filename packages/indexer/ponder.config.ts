/**
 * The history indexer's chains and sources (docs/dashboard.md, "The indexer"), read from an `sso-config.json`
 * (docs/interfaces.md) at start: every chain of the file, the same events the node-logs source reads.
 *
 *   SSO_INDEXER_CONFIG         path of the sso-config.json (required)
 *   SSO_INDEXER_START_BLOCKS   `<chainId>=<block>,…`: where each chain's history starts (default 0)
 *   SSO_INDEXER_RPC_<chainId>  the RPC URL for that chain, instead of the config's `rpcUrl`
 *   DATABASE_URL               Postgres; without it an embedded PGlite in `SSO_INDEXER_PGLITE` (default .ponder/pglite)
 */
import { createConfig, factory } from 'ponder'
import {
  accountEvents,
  accountFactoryEvents,
  entryPointEvents,
  moduleEvents,
  transferEvent,
} from './src/abis'
import { readIndexerChains } from './src/chains'

const chains = readIndexerChains(process.env)

const perChain = <T>(make: (chain: (typeof chains)[number]) => T | undefined) =>
  Object.fromEntries(
    chains.flatMap((chain) => {
      const value = make(chain)
      return value === undefined ? [] : [[chain.name, value]]
    }),
  )

const accountsOf = (chain: (typeof chains)[number]) =>
  factory({ address: chain.accountFactory, event: accountFactoryEvents[0], parameter: 'account' })

export default createConfig({
  database: process.env.DATABASE_URL
    ? { kind: 'postgres', connectionString: process.env.DATABASE_URL }
    : { kind: 'pglite', directory: process.env.SSO_INDEXER_PGLITE ?? '.ponder/pglite' },
  ordering: 'multichain',
  chains: perChain((chain) => ({
    id: chain.id,
    // Each URL is rate limited on its own: listed several times, backfills go several times faster.
    rpc: Array.from({ length: 10 }, () => chain.rpcUrl),
    pollingInterval: chain.pollingInterval,
  })),
  contracts: {
    EntryPoint: {
      abi: entryPointEvents,
      chain: perChain((chain) => ({ address: chain.entryPoint, startBlock: chain.startBlock })),
    },
    AccountFactory: {
      abi: accountFactoryEvents,
      chain: perChain((chain) => ({ address: chain.accountFactory, startBlock: chain.startBlock })),
    },
    SsoAccount: {
      abi: accountEvents,
      chain: perChain((chain) => ({ address: accountsOf(chain), startBlock: chain.startBlock })),
    },
    Modules: {
      abi: moduleEvents,
      chain: perChain((chain) =>
        chain.modules.length ? { address: chain.modules, startBlock: chain.startBlock } : undefined,
      ),
    },
    Tokens: {
      abi: transferEvent,
      chain: perChain((chain) =>
        chain.tokens.length ? { address: chain.tokens, startBlock: chain.startBlock } : undefined,
      ),
    },
  },
  accounts: {
    Accounts: {
      // Every chain names its own factory below; Ponder asks for one at the top as well.
      address: accountsOf(chains[0]!),
      chain: perChain((chain) => ({ address: accountsOf(chain), startBlock: chain.startBlock })),
    },
  },
})
