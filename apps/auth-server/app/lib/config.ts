/**
 * Run-time configuration (`/sso-config.json`, docs/interfaces.md). Loaded once at start-up; when the file is
 * missing and the app is served from a loopback origin (a local checkout), it falls back to the local devnet
 * defaults and the `@sso/contracts-abi` manifest.
 */
import { Errors } from '@sso/client/popup'
import { deployments } from '@sso/contracts-abi'
import * as v from 'valibot'
import type { Address } from 'viem'

const AddressSchema = v.custom<Address>(
  (value) => typeof value === 'string' && /^0x[0-9a-fA-F]{40}$/.test(value),
  'Expected a 20-byte 0x-prefixed address',
)

const ChainSchema = v.object({
  id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  name: v.string(),
  rpcUrl: v.pipe(v.string(), v.url()),
  bundlerUrl: v.pipe(v.string(), v.url()),
  /** An ERC-7677 paymaster service that pays for this chain's user operations when the dapp names none. */
  paymasterServiceUrl: v.optional(v.pipe(v.string(), v.url())),
  /**
   * The block our contracts were deployed in (the deploy manifest's `fromBlock`): every read of logs (history,
   * sessions, passkeys, modules, recovery) starts there, never at genesis. Default 0 (a devnet).
   */
  fromBlock: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** The history indexer serving this chain (docs/dashboard.md, "The indexer"); without it, the node's logs. */
  indexerUrl: v.optional(v.pipe(v.string(), v.url())),
  contracts: v.objectWithRest(
    {
      entryPoint: AddressSchema,
      accountFactory: v.optional(AddressSchema),
      webAuthnValidator: v.optional(AddressSchema),
      sponsorPaymaster: v.optional(AddressSchema),
    },
    AddressSchema,
  ),
  /** The ERC-20s the dashboard lists (bounded: a config is input like any other). */
  tokens: v.optional(
    v.pipe(
      v.array(
        v.object({
          address: AddressSchema,
          name: v.pipe(v.string(), v.maxLength(64)),
          symbol: v.pipe(v.string(), v.minLength(1), v.maxLength(16)),
          decimals: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(36)),
        }),
      ),
      v.maxLength(100),
    ),
    [],
  ),
})

export const SsoConfigSchema = v.object({
  authServerUrl: v.pipe(v.string(), v.url()),
  /** The backup sign-in page: the same app on another origin and relying party (docs/webauthn.md). */
  backupAuthServerUrl: v.optional(v.pipe(v.string(), v.url())),
  chains: v.pipe(v.array(ChainSchema), v.minLength(1)),
})

export type SsoConfig = v.InferOutput<typeof SsoConfigSchema>
export type SsoChainConfig = SsoConfig['chains'][number]

/** The first block whose logs can concern an account on `chain`: where every log read starts. */
export function logsFrom(chain: Pick<SsoChainConfig, 'fromBlock'>): bigint {
  return BigInt(chain.fromBlock ?? 0)
}

/** EntryPoint v0.8, the same address on every chain. */
export const entryPointAddress: Address = '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108'

/** The config used when `/sso-config.json` is missing: the local devnet on its default ports. */
export function defaultConfig(): SsoConfig {
  const manifest = deployments[31337]
  return {
    authServerUrl: 'http://localhost:3002',
    backupAuthServerUrl: 'http://backup.localhost:3003',
    chains: [
      {
        id: 31337,
        name: 'SSO Devnet',
        rpcUrl: 'http://127.0.0.1:8545',
        bundlerUrl: 'http://127.0.0.1:4337',
        paymasterServiceUrl: 'http://127.0.0.1:3010',
        contracts: { ...manifest },
        tokens: [{ address: manifest.demoToken, name: 'Demo Dollar', symbol: 'DUSD', decimals: 6 }],
      },
    ],
  }
}

/** Where the config came from, for display. */
export type ConfigSource = 'sso-config.json' | 'defaults'

/** Thrown when `/sso-config.json` exists but does not have the documented shape. */
export class InvalidConfigError extends Errors.BaseError {
  override name = 'InvalidConfigError'
}

/** Whether `origin` is this machine's (localhost, `*.localhost`, 127.0.0.1, [::1]): a local checkout. */
export function isLoopbackOrigin(origin: string): boolean {
  let hostname: string
  try {
    hostname = new URL(origin).hostname
  } catch {
    return false
  }
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '127.0.0.1' ||
    hostname === '[::1]'
  )
}

/**
 * Loads `/sso-config.json`. A file of the wrong shape throws {@link InvalidConfigError} naming the field. A missing
 * one (an HTTP error, no answer, or a body that is not JSON, such as a host's catch-all HTML page) gives
 * {@link defaultConfig} only on a loopback `origin` (a local checkout next to the devnet); anywhere else it throws
 * {@link InvalidConfigError} too: a deployment must never silently use devnet addresses and URLs.
 *
 * @example
 * ```ts
 * const { config, source } = await loadConfig()
 * ```
 */
export async function loadConfig(
  fetcher: typeof fetch = fetch,
  origin: string = globalThis.location?.origin ?? '',
): Promise<{ config: SsoConfig; source: ConfigSource }> {
  let body: unknown
  let missing: string | undefined
  try {
    const response = await fetcher('/sso-config.json', { cache: 'no-store' })
    if (!response.ok) missing = `HTTP ${response.status}`
    else body = await response.json().catch(() => (missing = 'not JSON'))
  } catch {
    missing = 'no answer'
  }
  if (missing !== undefined) {
    if (isLoopbackOrigin(origin)) return { config: defaultConfig(), source: 'defaults' }
    throw new InvalidConfigError(
      `/sso-config.json could not be loaded (${missing}): this deployment names no chains or contracts.`,
    )
  }
  const parsed = v.safeParse(SsoConfigSchema, body)
  if (!parsed.success)
    throw new InvalidConfigError(`/sso-config.json is invalid: ${v.summarize(parsed.issues)}`)
  return { config: parsed.output, source: 'sso-config.json' }
}

/** A sign-in page of this deployment: the main one (`authServerUrl`) or the backup one (`backupAuthServerUrl`). */
export type SignInPage = { kind: 'main' | 'backup'; origin: string; label: string }

/**
 * The sign-in pages of `config`, main first. Each holds its own passkeys: a passkey is bound to its page's
 * origin and relying party, on chain as in the authenticator (docs/webauthn.md, "Backup sign-in page").
 */
export function signInPages(config: SsoConfig): SignInPage[] {
  const pages: SignInPage[] = [
    { kind: 'main', origin: new URL(config.authServerUrl).origin, label: 'main sign-in page' },
  ]
  if (config.backupAuthServerUrl) {
    const origin = new URL(config.backupAuthServerUrl).origin
    if (origin !== pages[0]!.origin) pages.push({ kind: 'backup', origin, label: 'backup sign-in page' })
  }
  return pages
}
