/**
 * The chains a session manager sends on (docs/architecture.md, section 5): our contracts there (the provider's chain
 * config first, then the `@sso/contracts-abi` manifest), the SessionKeyValidator, the targets no session may call,
 * and one viem public client, bundler client and userOp watcher per chain.
 */
import { deployments, sessionAccountModules } from '@sso/contracts-abi'
import { type Address, createPublicClient, defineChain, http, type PublicClient } from 'viem'
import { type BundlerClient, createBundlerClient, entryPoint08Address } from 'viem/account-abstraction'
import { BaseError } from '../Errors.js'
import type { ChainContracts, SessionChain, SessionHandler } from '../SessionHandler.js'
import { estimateUserOperationFees } from '../UserOperation.js'
import { createUserOpWatcher, type UserOpWatcher } from './userOpWatcher.js'

export type SessionChains = ReturnType<typeof createSessionChains>

export function createSessionChains(options: {
  /** The provider the manager is attached to (its chains), once attached. */
  host: () => Parameters<SessionHandler['attach']>[0] | undefined
  validators?: Record<number, Address> | undefined
  bannedTargets?: Record<number, readonly Address[]> | undefined
}) {
  const clients = new Map<number, { client: PublicClient; bundler: BundlerClient; watcher: UserOpWatcher }>()

  // Our contracts on `chainId`: the provider's chain config first (a deployment of your own), then the manifest.
  function contractsOf(chainId: number): ChainContracts {
    return { ...manifestContracts[chainId], ...definedOnly(options.host()?.chain(chainId)?.contracts) }
  }

  function validatorOf(chainId: number): Address {
    const known = options.validators?.[chainId] ?? contractsOf(chainId).sessionKeyValidator
    if (known) return known
    throw new BaseError(
      `No SessionKeyValidator is known for chain ${chainId}: give the chain's contracts in the provider's chains, or validators in the session options.`,
    )
  }

  function banned(chainId: number): Address[] {
    const known = contractsOf(chainId)
    const modules = sessionAccountModules({
      sessionKeyValidator: validatorOf(chainId),
      webAuthnValidator: known.webAuthnValidator,
      guardianExecutor: known.guardianExecutor,
    })
    return [...modules, ...(options.bannedTargets?.[chainId] ?? [])]
  }

  function chainOf(chainId: number): SessionChain {
    const chain = options.host()?.chain(chainId)
    if (!chain) throw new BaseError(`Chain ${chainId} is not configured in the SSO provider.`)
    return chain
  }

  function clientsOf(chainId: number) {
    let entry = clients.get(chainId)
    if (!entry) {
      const chain = chainOf(chainId)
      const viemChain = defineChain({
        id: chain.id,
        name: chain.name ?? `Chain ${chain.id}`,
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [chain.rpcUrl] } },
      })
      const client = createPublicClient({
        chain: viemChain,
        // The reads of a send go out together: one HTTP request for the state, block and nonce.
        transport: http(chain.rpcUrl, { batch: { wait: 0 } }),
        pollingInterval: 250,
      }) as PublicClient
      const bundler = createBundlerClient({
        client,
        transport: http(chain.bundlerUrl),
        pollingInterval: 250,
        userOperation: { estimateFeesPerGas: estimateUserOperationFees },
      })
      const watcher = createUserOpWatcher({
        client,
        bundler,
        entryPoint: entryPoint08Address,
        rpcUrl: chain.rpcUrl,
        bundlerUrl: chain.bundlerUrl,
      })
      entry = { client, bundler, watcher }
      clients.set(chainId, entry)
    }
    return entry
  }

  return { contractsOf, validatorOf, banned, chainOf, clientsOf }
}

const manifestContracts = deployments as Record<
  number,
  { sessionKeyValidator?: Address; webAuthnValidator?: Address; guardianExecutor?: Address } | undefined
>

function definedOnly(contracts: ChainContracts | undefined): ChainContracts {
  return Object.fromEntries(Object.entries(contracts ?? {}).filter((entry) => entry[1] !== undefined))
}
