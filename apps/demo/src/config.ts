/**
 * Run-time configuration (`/sso-config.json`, docs/interfaces.md); falls back to the local devnet defaults when
 * the file is missing. A file of the wrong shape is an error (never silently use devnet values).
 */
import type { Address } from 'viem'

/** An ERC-20 the chain lists (`tokens` of sso-config.json, docs/interfaces.md): the devnets list Demo Dollar. */
export type DemoToken = { address: Address; name: string; symbol: string; decimals: number }

export type DemoChain = {
  id: number
  name: string
  rpcUrl: string
  bundlerUrl: string
  contracts: { entryPoint: Address } & Record<string, Address>
  tokens: DemoToken[]
  /** The block our contracts were deployed in (the deploy manifest's): log reads start there. */
  fromBlock?: number
}
export type DemoConfig = { authServerUrl: string; chains: DemoChain[] }

export const entryPointAddress: Address = '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108'

export const defaultConfig: DemoConfig = {
  authServerUrl: 'http://localhost:3002',
  chains: [
    {
      id: 31337,
      name: 'SSO Devnet',
      rpcUrl: 'http://127.0.0.1:8545',
      bundlerUrl: 'http://127.0.0.1:4337',
      contracts: { entryPoint: entryPointAddress },
      tokens: [],
    },
  ],
}

const isAddress = (value: unknown): value is Address =>
  typeof value === 'string' && /^0x[0-9a-fA-F]{40}$/.test(value)
const isUrl = (value: unknown): value is string => {
  try {
    return typeof value === 'string' && Boolean(new URL(value))
  } catch {
    return false
  }
}

/** Validates the config shape; throws naming the first bad field. */
export function parseConfig(value: unknown): DemoConfig {
  const fail = (what: string): never => {
    throw new Error(`/sso-config.json is invalid: ${what}`)
  }
  if (typeof value !== 'object' || value === null) return fail('not an object')
  const { authServerUrl, chains } = value as Record<string, unknown>
  if (!isUrl(authServerUrl)) fail('authServerUrl must be a URL')
  if (!Array.isArray(chains) || chains.length === 0) return fail('chains must be a non-empty array')
  const parsed = chains.map((chain: unknown, index): DemoChain => {
    const c = (chain ?? {}) as Record<string, unknown>
    if (typeof c.id !== 'number' || !Number.isSafeInteger(c.id) || c.id < 1) fail(`chains[${index}].id`)
    if (!isUrl(c.rpcUrl)) fail(`chains[${index}].rpcUrl`)
    if (!isUrl(c.bundlerUrl)) fail(`chains[${index}].bundlerUrl`)
    const contracts = (c.contracts ?? {}) as Record<string, unknown>
    for (const [name, address] of Object.entries(contracts))
      if (!isAddress(address)) fail(`chains[${index}].contracts.${name}`)
    if (
      c.fromBlock !== undefined &&
      (typeof c.fromBlock !== 'number' || !Number.isSafeInteger(c.fromBlock) || c.fromBlock < 0)
    )
      fail(`chains[${index}].fromBlock`)
    const tokens = c.tokens ?? []
    if (!Array.isArray(tokens)) fail(`chains[${index}].tokens must be an array`)
    for (const [t, token] of (tokens as unknown[]).entries()) {
      const { address, name, symbol, decimals } = (token ?? {}) as Record<string, unknown>
      if (!isAddress(address) || typeof name !== 'string' || typeof symbol !== 'string')
        fail(`chains[${index}].tokens[${t}]`)
      if (typeof decimals !== 'number' || !Number.isInteger(decimals) || decimals < 0 || decimals > 36)
        fail(`chains[${index}].tokens[${t}].decimals`)
    }
    return {
      id: c.id as number,
      name: typeof c.name === 'string' ? c.name : `Chain ${c.id}`,
      rpcUrl: c.rpcUrl as string,
      bundlerUrl: c.bundlerUrl as string,
      contracts: { entryPoint: entryPointAddress, ...(contracts as Record<string, Address>) },
      tokens: tokens as DemoToken[],
      ...(c.fromBlock === undefined ? {} : { fromBlock: c.fromBlock as number }),
    }
  })
  return { authServerUrl: authServerUrl as string, chains: parsed }
}

/** Loads `/sso-config.json`, or the defaults when it is missing. */
export async function loadConfig(): Promise<{ config: DemoConfig; source: 'sso-config.json' | 'defaults' }> {
  let body: unknown
  try {
    const response = await fetch('/sso-config.json', { cache: 'no-store' })
    if (!response.ok) return { config: defaultConfig, source: 'defaults' }
    body = await response.json()
  } catch {
    return { config: defaultConfig, source: 'defaults' }
  }
  return { config: parseConfig(body), source: 'sso-config.json' }
}
