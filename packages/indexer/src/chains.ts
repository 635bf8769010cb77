/** The chains the indexer follows, from an `sso-config.json` (docs/interfaces.md) and the environment. */
import * as fs from 'node:fs'
import { Errors } from '@sso/client'
import { type Address, isAddress } from 'viem'

export type IndexerChain = {
  /** Ponder's name of the chain: `chain<id>`. */
  name: string
  id: number
  rpcUrl: string
  startBlock: number
  pollingInterval: number
  entryPoint: Address
  accountFactory: Address
  /** SessionKeyValidator, WebAuthnValidator, GuardianExecutor (those the chain has). */
  modules: Address[]
  tokens: Address[]
}

/** Thrown when the configuration is missing or malformed: the indexer does not start. */
export class IndexerConfigError extends Errors.BaseError {
  override name = 'IndexerConfigError'
}

/**
 * @example
 * ```ts
 * const chains = readIndexerChains({ SSO_INDEXER_CONFIG: 'sso-config.json' })
 * ```
 */
export function readIndexerChains(env: Record<string, string | undefined>): IndexerChain[] {
  const file = env.SSO_INDEXER_CONFIG
  if (!file) throw new IndexerConfigError('SSO_INDEXER_CONFIG must name an sso-config.json.')
  let config: { chains?: unknown }
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8')) as { chains?: unknown }
  } catch (error) {
    throw new IndexerConfigError(`Cannot read ${file}: ${(error as Error).message}`)
  }
  if (!Array.isArray(config.chains) || config.chains.length === 0)
    throw new IndexerConfigError(`${file} has no chains.`)
  const startBlocks = new Map<number, number>()
  for (const pair of (env.SSO_INDEXER_START_BLOCKS ?? '').split(',').filter(Boolean)) {
    const [id, block] = pair.split('=').map(Number)
    if (!Number.isInteger(id) || !Number.isInteger(block) || block! < 0)
      throw new IndexerConfigError(`SSO_INDEXER_START_BLOCKS: expected <chainId>=<block>, got ${pair}.`)
    startBlocks.set(id!, block!)
  }
  return config.chains.map((raw, i) => {
    const chain = raw as {
      id?: unknown
      rpcUrl?: unknown
      fromBlock?: unknown
      contracts?: Record<string, unknown>
      tokens?: { address?: unknown }[]
    }
    const where = `${file}: chains[${i}]`
    if (typeof chain.id !== 'number' || !Number.isInteger(chain.id))
      throw new IndexerConfigError(`${where}.id must be an integer.`)
    const address = (value: unknown, name: string): Address => {
      if (typeof value !== 'string' || !isAddress(value, { strict: false }))
        throw new IndexerConfigError(`${where}.${name} must be an address.`)
      return value
    }
    const contracts = chain.contracts ?? {}
    const rpcUrl = env[`SSO_INDEXER_RPC_${chain.id}`] ?? chain.rpcUrl
    if (typeof rpcUrl !== 'string') throw new IndexerConfigError(`${where}.rpcUrl must be a URL.`)
    const fromBlock = chain.fromBlock ?? 0
    if (typeof fromBlock !== 'number' || !Number.isInteger(fromBlock) || fromBlock < 0)
      throw new IndexerConfigError(`${where}.fromBlock must be a block number.`)
    return {
      name: `chain${chain.id}`,
      id: chain.id,
      rpcUrl,
      startBlock: startBlocks.get(chain.id) ?? fromBlock,
      // The devnet mines on demand: poll often so the dashboard sees a new block within a fraction of a second.
      pollingInterval: chain.id === 31337 || chain.id === 31338 ? 250 : 1_000,
      entryPoint: address(contracts.entryPoint, 'contracts.entryPoint'),
      accountFactory: address(contracts.accountFactory, 'contracts.accountFactory'),
      modules: (['sessionKeyValidator', 'webAuthnValidator', 'guardianExecutor'] as const)
        .filter((name) => contracts[name] !== undefined)
        .map((name) => address(contracts[name], `contracts.${name}`)),
      tokens: (chain.tokens ?? []).map((token, t) => address(token.address, `tokens[${t}].address`)),
    }
  })
}
