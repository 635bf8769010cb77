/**
 * One service of the stack with the same shape for each: start, health, stop. A child process (anvil, Alto, the
 * indexer: {@link defineService}) or a server in this process (the paymaster service, the web apps:
 * {@link defineServerService}), each defined in one file of services/. The stack composes them; a test can stop and
 * start one of them to see how clients ride out the fault.
 */
import { ChildProcessError } from './Errors.js'
import { type Child, tail, waitHealthy } from './internal/Child.js'

/** A service of the stack that can be stopped and started again on the same port. */
export type Service = {
  /** `anvil`, `alto` (`-2` for the second chain), `indexer`, `paymaster`, `demo`, `auth-server`. */
  readonly name: string
  /** Where it answers. */
  readonly url: string
  /** Whether it runs (started and not stopped). */
  running(): boolean
  /** Whether it answers now. */
  health(): Promise<boolean>
  /** Starts it again (a no-op while it runs); resolves once it is healthy. */
  start(): Promise<void>
  /**
   * Stops it, keeping what it must keep to come back (anvil: its chain state); `died` of the stack does not
   * report a stopped service. Resolves once the process has exited.
   */
  stop(): Promise<void>
}

/** What every child-process service takes (services/): where it listens and logs, and who hears of its death. */
export type ProcessServiceParameters = {
  port: number
  /** Where its log file goes. */
  logDir: string
  /** Appended to its name (`-2` for the second chain). Default none. */
  suffix?: string
  /** It exited while it should run. */
  onDeath: (error: ChildProcessError) => void
}

/**
 * The name (`<kind><suffix>`) and URL (`http://127.0.0.1:<port>`) of a local service.
 *
 * @example
 * serviceAddress('anvil', { port: 8546, suffix: '-2' }) // { name: 'anvil-2', url: 'http://127.0.0.1:8546' }
 */
export function serviceAddress(kind: string, parameters: { port: number; suffix?: string | undefined }) {
  return { name: `${kind}${parameters.suffix ?? ''}`, url: `http://127.0.0.1:${parameters.port}` }
}

/** A {@link Service} plus what only the stack uses. */
export type ManagedService = Service & {
  /** Stops it for good (the stack's stop): nothing is kept. */
  shutdown(): Promise<void>
}

/** Whether `health` says yes; a health check that throws (nothing listens yet) is a no. */
async function answers(health: () => Promise<boolean>): Promise<boolean> {
  try {
    return await health()
  } catch {
    return false
  }
}

/** A service that is a child process: restarted by spawning it again; its exit while it should run is a death. */
export function defineService(parameters: {
  name: string
  url: string
  spawn: () => Child
  health: () => Promise<boolean>
  /** What `waitHealthy` reports while it comes up. */
  what: string
  healthTimeoutMs: number
  /** Before `stop()` ends the process (anvil dumps its state). */
  beforeStop?: (() => Promise<void>) | undefined
  /** After a restart is healthy (anvil loads the dumped state). */
  afterRestart?: (() => Promise<void>) | undefined
  /** The process exited while it should run. */
  onDeath: (error: ChildProcessError) => void
}): ManagedService {
  let child: Child | undefined
  let starts = 0
  const launch = async () => {
    const current = parameters.spawn()
    child = current
    void current.exited.then((code) => {
      if (child !== current) return
      parameters.onDeath(
        new ChildProcessError(current.name, `${current.name} exited unexpectedly (${code}).`, {
          logFile: current.logFile,
          logTail: tail(current.logFile),
        }),
      )
    })
    await waitHealthy(current, parameters.health, {
      timeoutMs: parameters.healthTimeoutMs,
      what: parameters.what,
    })
    if (starts++ > 0) await parameters.afterRestart?.()
  }
  const end = async () => {
    const current = child
    // Forgotten first, so its exit is not reported as a death.
    child = undefined
    await current?.stop()
  }
  return {
    name: parameters.name,
    url: parameters.url,
    running: () => child !== undefined && !child.hasExited(),
    health: () => answers(parameters.health),
    async start() {
      if (child && !child.hasExited()) return
      await launch()
    },
    async stop() {
      if (!child) return
      await parameters.beforeStop?.()
      await end()
    },
    shutdown: end,
  }
}

/**
 * A service that is a server in this process (`listen` binds its port): it never dies on its own. A start that is
 * not healthy at once throws and leaves nothing listening.
 */
export function defineServerService(parameters: {
  name: string
  url: string
  listen: () => Promise<{ close: () => Promise<void> }>
  health: () => Promise<boolean>
  /** What `health` asks, for the error of a start that is not healthy. */
  what: string
}): ManagedService {
  let server: { close: () => Promise<void> } | undefined
  const health = () => answers(parameters.health)
  const end = async () => {
    const current = server
    server = undefined
    await current?.close()
  }
  return {
    name: parameters.name,
    url: parameters.url,
    running: () => server !== undefined,
    health,
    async start() {
      if (server) return
      server = await parameters.listen()
      if (!(await health())) {
        await end()
        throw new ChildProcessError(parameters.name, `${parameters.what} failed on ${parameters.url}.`)
      }
    },
    stop: end,
    shutdown: end,
  }
}
