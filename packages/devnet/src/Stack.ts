import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { entryPoint08 } from '@sso/contracts-abi'
import type { ResolvedDeployment } from '@sso/contracts-abi/artifacts'
import { type Address, createPublicClient, createWalletClient, http } from 'viem'
import { type ChainClock, chainNow, increaseTime, resetTime } from './Clock.js'
import {
  deployContracts,
  deployEntryPoint,
  ensureDeterministicDeployer,
  planContracts,
  setPaymasterSigner,
} from './Deploy.js'
import { ChildProcessError, DevnetError, InvalidOptionError } from './Errors.js'
import type { Child } from './internal/Child.js'
import { assertPortsFree, freePorts, isListening } from './internal/ports.js'
import { devnetSponsorshipPolicy, type PaymasterService, startPaymasterService } from './PaymasterService.js'
import type { ManagedService, Service } from './Service.js'
import { type StaticServer, startStaticServer } from './StaticServer.js'
import { altoService } from './services/alto.js'
import { anvilService } from './services/anvil.js'
import { indexerService } from './services/indexer.js'
import { ensureBuilt, outputDir, type WebApp, webApps } from './WebApps.js'

export { anvilKeys } from './services/alto.js'

/** The verifying signer of the devnets' SponsorPaymaster, held by their paymaster service: anvil #9. */
const paymasterSignerKey = '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6'

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

/** A running local stack. */
export type Stack = {
  chainId: number
  rpcUrl: string
  bundlerUrl: string
  /** `http://localhost:<port>`; with `web: 'none'` nothing serves it. */
  authServerUrl: string
  /** `http://localhost:<port>`; with `web: 'none'` nothing serves it. */
  demoUrl: string
  /**
   * The backup sign-in page, `http://backup.localhost:<port>`: the same auth server build on another origin and
   * relying party (docs/webauthn.md, "Backup sign-in page"). With `web: 'none'` nothing serves it.
   */
  backupAuthServerUrl: string
  contracts: StackContracts
  config: SsoConfig
  /** Every chain (the second one only with `secondChain`). */
  chains: SsoConfigChain[]
  ports: Ports
  /** Directory with one log file per child process (removed by stop()). */
  logDir: string
  /** The default chain's clock, for {@link increaseTime} / {@link resetTime} from another process. */
  clock: ChainClock
  /** Every chain's clock, in the order of `chains`. */
  clocks: ChainClock[]
  /**
   * Time travel that the bundler follows: moves a chain's time (default: the first chain) `seconds` forward,
   * anvil and its Alto together. Resolves with the mined block's timestamp.
   */
  increaseTime: (seconds: number, chainId?: number) => Promise<number>
  /** Puts a chain's time (default: the first chain) back on the wall clock, anvil and its Alto together. */
  resetTime: (chainId?: number) => Promise<number>
  /** Stops every process and server of the stack; nothing listens on its ports afterwards. */
  stop: () => Promise<void>
  /**
   * A chain's anvil (`'chain'`) or Alto (`'bundler'`), default the first chain, or the history indexer
   * (`'indexer'`, with `indexer: true`; one for every chain), to stop and start again (fault tests): a stopped anvil
   * comes back with its state, a stopped Alto with an empty mempool, a stopped indexer indexes again from block 0.
   *
   * @example
   * await stack.service('bundler').stop()
   * // … requests fail …
   * await stack.service('bundler').start()
   */
  service: (kind: 'chain' | 'bundler' | 'indexer', chainId?: number) => Service
  /**
   * Settles when a child process (anvil, Alto) exits on its own while the stack runs: resolves with an error
   * that carries the tail of its log. Never settles otherwise.
   */
  died: Promise<ChildProcessError>
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

const services: Record<keyof Ports, string> = {
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

function validateOptions(options: StartStackOptions): void {
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

async function resolvePorts(options: StartStackOptions, needed: readonly (keyof Ports)[]): Promise<Ports> {
  const offset = options.portOffset ?? 0
  const requested = (key: keyof Ports): PortOption =>
    options.ports === 'auto' ? 'auto' : (options.ports?.[key] ?? defaultPorts[key] + offset)
  const auto = needed.filter((key) => requested(key) === 'auto')
  const fixed = needed.filter((key) => requested(key) !== 'auto')
  await assertPortsFree(fixed.map((key) => ({ port: requested(key) as number, service: services[key] })))
  const free = await freePorts(auto.length)
  const ports = { ...defaultPorts }
  for (const key of fixed) ports[key] = requested(key) as number
  auto.forEach((key, index) => {
    ports[key] = free[index]!
  })
  return ports
}

/**
 * Starts the local stack: anvil (osaka) -> EntryPoint v0.8 -> our contracts (CREATE2, checked against the
 * @sso/contracts-abi manifest) -> paymaster deposit -> Alto -> the static web apps with `/sso-config.json`.
 * Any failure stops what was started and throws (child failures carry their log tail).
 *
 * @example
 * const stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
 * // … use stack.rpcUrl, stack.bundlerUrl, stack.contracts
 * await stack.stop()
 */
export async function startStack(options: StartStackOptions = {}): Promise<Stack> {
  validateOptions(options)
  const web = options.web ?? 'static'
  const log = options.quiet ? () => {} : (line: string) => process.stderr.write(`[devnet] ${line}\n`)
  const needed: (keyof Ports)[] = ['rpc', 'bundler', 'paymaster']
  if (web === 'static') needed.push('demo', 'authServer', 'authServerBackup')
  if (options.secondChain) needed.push('rpc2', 'bundler2', 'paymaster2')
  if (options.indexer) needed.push('indexer')
  const ports = await resolvePorts(options, needed)

  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-devnet-'))
  // Builds still running when the start fails are stopped too (they hold the build lock).
  const buildChildren: Child[] = []
  let builds: Promise<void> = Promise.resolve()
  const servers: StaticServer[] = []
  let stopped = false
  let failed = false
  let reportDeath: (error: ChildProcessError) => void = () => {}
  const died = new Promise<ChildProcessError>((resolve) => {
    reportDeath = resolve
  })
  const services: ManagedService[] = []
  const paymasterServices: PaymasterService[] = []
  const onDeath = (error: ChildProcessError) => {
    if (!stopped) reportDeath(error)
  }
  const stop = async () => {
    if (stopped) return
    stopped = true
    await Promise.all([
      ...servers.map((server) => server.close()),
      ...paymasterServices.map((service) => service.close()),
      ...services.map((service) => service.shutdown()),
      ...buildChildren.filter((child) => !child.hasExited()).map((child) => child.stop()),
    ])
    // A killed build releases its build lock once its promise settles.
    await builds.catch(() => {})
    // Wait until the ports are actually released so a caller can immediately reuse them.
    const deadline = Date.now() + 5000
    for (const port of needed.map((key) => ports[key])) {
      while ((await isListening(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    }
    // Logs of a child that failed to start stay for the error message that points at them.
    if (!failed) fs.rmSync(logDir, { recursive: true, force: true })
  }

  try {
    // Builds run while the chain starts (the contracts first: the deployments depend on them).
    const plannedPromise =
      options.contracts === false
        ? Promise.resolve([])
        : planContracts(options.secondChain ? [31337, 31338] : [31337], log)
    builds =
      web === 'static'
        ? (async () => {
            // One at a time: two bundlers at once on two cores are slower than in sequence.
            for (const app of [webApps.demo, webApps.authServer]) {
              if (stopped) throw new DevnetError('The stack was stopped while building the web apps.')
              await ensureBuilt(app, { logDir, log, onSpawn: (child) => buildChildren.push(child) })
            }
          })()
        : Promise.resolve()
    // Avoid an unhandled rejection while we are busy elsewhere; awaited below.
    builds.catch(() => {})
    plannedPromise.catch(() => {})

    const startChain = async (
      chainId: number,
      rpcPort: number,
      bundlerPort: number,
      paymasterPort: number,
      suffix: string,
    ) => {
      const rpcUrl = `http://127.0.0.1:${rpcPort}`
      const chainService = anvilService({ chainId, port: rpcPort, logDir, suffix, onDeath })
      services.push(chainService)
      await chainService.start()
      log(`anvil up on ${rpcUrl} (chain ${chainId})`)

      const transport = http(rpcUrl, { batch: false, retryCount: 0 })
      const clients = {
        public: createPublicClient({ transport, pollingInterval: 20 }),
        wallet: createWalletClient({ transport }),
      }
      await ensureDeterministicDeployer(clients)
      await deployEntryPoint(clients)
      let planned: ResolvedDeployment[]
      try {
        planned = await plannedPromise
      } catch (error) {
        throw error instanceof DevnetError || (error as Error).name === 'ArtifactError'
          ? error
          : new DevnetError('Could not plan the contract deployments.', { cause: error })
      }
      const deployed = await deployContracts(clients, planned)
      const contracts: StackContracts = { entryPoint: entryPoint08.address, ...deployed }
      log(`contracts deployed: ${Object.keys(contracts).join(', ')}`)

      // Alto's preload and the paymaster service read the chain's time offset from here (written by increaseTime /
      // resetTime).
      const clock: ChainClock = { rpcUrl, clockFile: path.join(logDir, `clock-${chainId}.json`) }

      // The SponsorPaymaster pays for what the chain's paymaster service signs (docs/paymaster.md).
      let paymasterServiceUrl: string | undefined
      if (contracts.sponsorPaymaster) {
        const service = await startPaymasterService({
          port: paymasterPort,
          chainId,
          paymaster: contracts.sponsorPaymaster,
          signerKey: paymasterSignerKey,
          policy: devnetSponsorshipPolicy,
          // Its signatures' windows follow the chain through time travel.
          now: () => chainNow(clock.clockFile),
        })
        paymasterServices.push(service)
        await setPaymasterSigner(clients, contracts.sponsorPaymaster, service.sponsor.signer)
        paymasterServiceUrl = service.url
        log(`paymaster service up on ${service.url}`)
      }

      const bundlerUrl = `http://127.0.0.1:${bundlerPort}`
      const bundlerService = altoService({
        rpcUrl,
        port: bundlerPort,
        logDir,
        clockFile: clock.clockFile,
        suffix,
        onDeath,
      })
      services.push(bundlerService)
      await bundlerService.start()
      log(`Alto up on ${bundlerUrl}`)
      return {
        chain: {
          rpcUrl,
          bundlerUrl,
          ...(paymasterServiceUrl ? { paymasterServiceUrl } : {}),
          contracts,
          tokens: [demoToken(contracts)].filter((t) => t !== undefined),
        },
        clock,
        services: { chain: chainService as Service, bundler: bundlerService as Service },
      }
    }

    const chainPromises = [startChain(31337, ports.rpc, ports.bundler, ports.paymaster, '')]
    if (options.secondChain)
      chainPromises.push(startChain(31338, ports.rpc2, ports.bundler2, ports.paymaster2, '-2'))
    const [first, second] = await Promise.all(chainPromises)
    const chains: SsoConfigChain[] = [{ id: 31337, name: 'SSO Devnet', ...first!.chain }]
    if (second) chains.push({ id: 31338, name: 'SSO Devnet 2', ...second.chain })
    const clocks = [first!.clock, ...(second ? [second.clock] : [])]
    const chainServices = [first!.services, ...(second ? [second.services] : [])]
    const clockOf = (chainId = 31337): ChainClock => {
      const index = chains.findIndex((chain) => chain.id === chainId)
      if (index < 0) {
        throw new InvalidOptionError(
          `No chain ${chainId} in this stack (chains: ${chains.map((chain) => chain.id).join(', ')}).`,
        )
      }
      return clocks[index]!
    }

    const authServerUrl = `http://localhost:${ports.authServer}`
    const demoUrl = `http://localhost:${ports.demo}`
    // Another host name, so another WebAuthn relying party: passkey rpIds are domains, and another port of
    // `localhost` would share rpId `localhost`. Browsers resolve `*.localhost` to the loopback address and treat
    // it as a secure context; the server still binds 127.0.0.1 only.
    const backupAuthServerUrl = `http://backup.localhost:${ports.authServerBackup}`
    let indexer: ManagedService | undefined
    if (options.indexer) {
      const configFile = path.join(logDir, 'indexer-sso-config.json')
      fs.writeFileSync(configFile, JSON.stringify({ chains }, null, 2))
      indexer = indexerService({ configFile, port: ports.indexer, logDir, onDeath })
      services.push(indexer)
      for (const chain of chains) chain.indexerUrl = indexer.url
    }
    const config: SsoConfig = { authServerUrl, backupAuthServerUrl, chains }
    // The indexer's cold start (~10 s) runs beside the web builds.
    const indexerStarted = indexer
      ? indexer.start().then(() => log(`indexer up on ${indexer.url}`))
      : Promise.resolve()
    indexerStarted.catch(() => {})

    if (web === 'static') {
      await builds
      const serve = async (app: WebApp, port: number) => {
        const server = await startStaticServer({ root: outputDir(app), port, config })
        servers.push(server)
        const response = await fetch(`http://127.0.0.1:${server.port}/`)
        if (response.status !== 200) {
          throw new ChildProcessError(app.name, `GET / on ${server.url} answered ${response.status}.`)
        }
        log(`${app.name} served on ${server.url}`)
      }
      await Promise.all([
        serve(webApps.demo, ports.demo),
        serve(webApps.authServer, ports.authServer),
        serve(webApps.authServer, ports.authServerBackup),
      ])
    }
    await indexerStarted

    return {
      chainId: 31337,
      rpcUrl: first!.chain.rpcUrl,
      bundlerUrl: first!.chain.bundlerUrl,
      authServerUrl,
      demoUrl,
      backupAuthServerUrl,
      contracts: first!.chain.contracts,
      config,
      chains,
      ports,
      logDir,
      clock: first!.clock,
      clocks,
      increaseTime: async (seconds, chainId) => increaseTime(clockOf(chainId), seconds),
      resetTime: async (chainId) => resetTime(clockOf(chainId)),
      service: (kind, chainId = 31337) => {
        if (kind === 'indexer') {
          if (!indexer)
            throw new InvalidOptionError('No indexer in this stack (start it with indexer: true).')
          return indexer
        }
        const index = chains.findIndex((chain) => chain.id === chainId)
        if (index < 0 || (kind !== 'chain' && kind !== 'bundler'))
          throw new InvalidOptionError(
            `No ${JSON.stringify(kind)} service on chain ${chainId} (kinds: chain, bundler, indexer; chains: ${chains.map((chain) => chain.id).join(', ')}).`,
          )
        return chainServices[index]![kind]
      },
      stop,
      died,
    }
  } catch (error) {
    // Keep the logs only when the error points at one of them.
    failed = error instanceof ChildProcessError
    await stop()
    throw error
  }
}
