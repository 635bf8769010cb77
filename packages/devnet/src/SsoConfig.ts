/** `/sso-config.json`: what the stack tells the web apps about its chains (docs/interfaces.md). */
import type { Address } from 'viem'

/** Addresses of the EntryPoint and of every contract we deploy (camelCase contract names). */
export type StackContracts = {
  entryPoint: Address
  accountFactory?: Address
  webAuthnValidator?: Address
  sponsorPaymaster?: Address
  [name: string]: Address | undefined
}

/** One chain of `/sso-config.json`. */
export type SsoConfigChain = {
  id: number
  name: string
  rpcUrl: string
  bundlerUrl: string
  contracts: StackContracts
  /** The ERC-20 tokens the dashboard lists on this chain (the devnets: the demo token). */
  tokens: TokenInfo[]
  /** An ERC-7677 paymaster service paying when the dapp names none (docs/interfaces.md). */
  paymasterServiceUrl?: string
  /** The history indexer serving this chain (docs/dashboard.md, "The indexer"). */
  indexerUrl?: string
}

/** An ERC-20 of a chain's token list in `/sso-config.json`. */
export type TokenInfo = { address: Address; name: string; symbol: string; decimals: number }

/** The devnet's demo ERC-20 (packages/contracts/src/demo/DemoToken.sol), minted by anyone: a faucet. */
export function demoToken(contracts: StackContracts): TokenInfo | undefined {
  return contracts.demoToken
    ? { address: contracts.demoToken, name: 'Demo Dollar', symbol: 'DUSD', decimals: 6 }
    : undefined
}

/** The `/sso-config.json` object (docs/interfaces.md). */
export type SsoConfig = { authServerUrl: string; backupAuthServerUrl?: string; chains: SsoConfigChain[] }
