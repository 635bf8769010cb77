import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { entryPoint08 } from '@sso/contracts-abi'
import type { ResolvedDeployment } from '@sso/contracts-abi/artifacts'
import { createPublicClient, createWalletClient, http } from 'viem'
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
import { isListening } from './internal/ports.js'
import { devnetSponsorshipPolicy } from './PaymasterService.js'
import type { ManagedService, Service } from './Service.js'
import { demoToken, type SsoConfig, type SsoConfigChain, type StackContracts } from './SsoConfig.js'
import { type Ports, resolvePorts, type StartStackOptions, validateOptions } from './StackOptions.js'
import { altoService } from './services/alto.js'
import { anvilService } from './services/anvil.js'
import { indexerService } from './services/indexer.js'
import { paymasterService } from './services/paymaster.js'
import { webAppService } from './services/web.js'
import { ensureBuilt, type WebApp, webApps } from './WebApps.js'

export { anvilKeys } from './services/alto.js'

/** The verifying signer of the devnets' SponsorPaymaster, held by their paymaster service: anvil #9. */
const paymasterSignerKey = '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6'

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
  let stopped = false
  let failed = false
  let reportDeath: (error: ChildProcessError) => void = () => {}
  const died = new Promise<ChildProcessError>((resolve) => {
    reportDeath = resolve
  })
  // Every service started, of every kind: the stack's stop shuts them all down.
  const services: ManagedService[] = []
  const onDeath = (error: ChildProcessError) => {
    if (!stopped) reportDeath(error)
  }
  const stop = async () => {
    if (stopped) return
    stopped = true
    await Promise.all([
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
        const service = paymasterService({
          port: paymasterPort,
          chainId,
          paymaster: contracts.sponsorPaymaster,
          signerKey: paymasterSignerKey,
          policy: devnetSponsorshipPolicy,
          // Its signatures' windows follow the chain through time travel.
          now: () => chainNow(clock.clockFile),
          suffix,
        })
        services.push(service)
        await service.start()
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
        const service = webAppService({ app, port, config })
        services.push(service)
        await service.start()
        log(`${app.name} served on ${service.url}`)
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
