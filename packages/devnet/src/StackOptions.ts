/** The options of `startStack` and the ports of the stack's services: defaults, offsets, `'auto'`. */
import { InvalidOptionError } from './Errors.js'
import { assertPortsFree, freePorts } from './internal/ports.js'

/** A port number, or `'auto'` for a free one chosen by the OS. */
export type PortOption = number | 'auto'

/**
 * The ports of the stack. Defaults: 8545 / 4337 / 3001 / 3002, the backup sign-in page 3003, the paymaster service
 * 3010, second chain 8546 / 4338 / 3011, the history indexer 42069.
 */
export type Ports = {
  rpc: number
  bundler: number
  demo: number
  authServer: number
  /** The auth server's build again, as the backup sign-in page (another origin: `http://backup.localhost:<port>`). */
  authServerBackup: number
  /** The chain's ERC-7677 paymaster service (docs/paymaster.md). */
  paymaster: number
  rpc2: number
  bundler2: number
  paymaster2: number
  /** The history indexer (Ponder), with `indexer: true`. */
  indexer: number
}

export type StartStackOptions = {
  /** Each port, or `'auto'` for all of them. */
  ports?: 'auto' | { [key in keyof Ports]?: PortOption }
  /** Added to every default port (ignored for explicit and `'auto'` ports). */
  portOffset?: number
  /** `'static'` (default): build the web apps when stale and serve them; `'none'`: chain and bundler only. */
  web?: 'static' | 'none'
  /** No progress lines on stderr. Default false. */
  quiet?: boolean
  /** Also start a second chain (anvil, chain id 31338, same contracts) with its own Alto. Default false. */
  secondChain?: boolean
  /**
   * Deploy our contracts (default true). `false` gives a chain with only the EntryPoint: for tooling that must
   * keep working while packages/contracts does not compile.
   */
  contracts?: boolean
  /**
   * Also start the history indexer (packages/indexer, Ponder) for every chain; `/sso-config.json` then names it
   * (`indexerUrl`) and the dashboard reads the history from it (docs/dashboard.md). Default false.
   */
  indexer?: boolean
}

const defaultPorts: Ports = {
  rpc: 8545,
  bundler: 4337,
  demo: 3001,
  authServer: 3002,
  authServerBackup: 3003,
  paymaster: 3010,
  rpc2: 8546,
  bundler2: 4338,
  paymaster2: 3011,
  indexer: 42069,
}

const portNames: Record<keyof Ports, string> = {
  rpc: 'anvil',
  bundler: 'Alto bundler',
  demo: 'demo app',
  authServer: 'auth server',
  authServerBackup: 'backup sign-in page',
  paymaster: 'paymaster service',
  rpc2: 'second anvil',
  bundler2: 'second Alto bundler',
  paymaster2: 'second paymaster service',
  indexer: 'history indexer',
}

/** Throws an {@link InvalidOptionError} for options `startStack` cannot use, before anything starts. */
export function validateOptions(options: StartStackOptions): void {
  const offset = options.portOffset ?? 0
  if (!Number.isInteger(offset) || offset < 0 || offset > 60_000) {
    throw new InvalidOptionError(
      `portOffset must be an integer from 0 to 60000, got ${String(options.portOffset)}.`,
    )
  }
  if (options.web !== undefined && options.web !== 'static' && options.web !== 'none') {
    throw new InvalidOptionError(`web must be 'static' or 'none', got ${JSON.stringify(options.web)}.`)
  }
  if (options.ports === undefined || options.ports === 'auto') return
  if (typeof options.ports !== 'object' || options.ports === null) {
    throw new InvalidOptionError(
      `ports must be 'auto' or an object of ports, got ${JSON.stringify(options.ports)}.`,
    )
  }
  for (const [key, value] of Object.entries(options.ports)) {
    if (!(key in defaultPorts)) {
      throw new InvalidOptionError(
        `Unknown port ${JSON.stringify(key)} (known: ${Object.keys(defaultPorts).join(', ')}).`,
      )
    }
    if (
      value !== undefined &&
      value !== 'auto' &&
      !(Number.isInteger(value) && value >= 1 && value <= 65_535)
    ) {
      throw new InvalidOptionError(
        `ports.${key} must be 'auto' or an integer from 1 to 65535, got ${JSON.stringify(value)}.`,
      )
    }
  }
}

/** The ports of `needed` services: the requested or default ones (checked free), and free ones for `'auto'`. */
export async function resolvePorts(
  options: StartStackOptions,
  needed: readonly (keyof Ports)[],
): Promise<Ports> {
  const offset = options.portOffset ?? 0
  const requested = (key: keyof Ports): PortOption =>
    options.ports === 'auto' ? 'auto' : (options.ports?.[key] ?? defaultPorts[key] + offset)
  const auto = needed.filter((key) => requested(key) === 'auto')
  const fixed = needed.filter((key) => requested(key) !== 'auto')
  await assertPortsFree(fixed.map((key) => ({ port: requested(key) as number, service: portNames[key] })))
  const free = await freePorts(auto.length)
  const ports = { ...defaultPorts }
  for (const key of fixed) ports[key] = requested(key) as number
  auto.forEach((key, index) => {
    ports[key] = free[index]!
  })
  return ports
}
