import { type ChildProcess, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ChildProcessError } from '../Errors.js'

/** A long-running child process in its own process group, its output appended to a log file. */
export type Child = {
  name: string
  pid: number
  logFile: string
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | NodeJS.Signals | null>
  hasExited: () => boolean
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop: (graceMs?: number) => Promise<void>
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

/** Last resort: if this process exits without stop(), don't leave groups running (synchronous SIGKILL). */
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL')
    }
    stopWatchdog()
  })
}

// A process killed with SIGKILL (or a crashed test worker) runs no exit hook. A small detached watchdog polls
// this process and, once it is gone, ends the process groups listed in its file.
const watchdogScript = `
const fs = require('node:fs')
const [parent, file] = process.argv.slice(1)
const alive = (pid) => { try { process.kill(pid, 0); return true } catch (e) { return e.code === 'EPERM' } }
const kill = (pids, signal) => { for (const pid of pids) { try { process.kill(-pid, signal) } catch {} } }
const timer = setInterval(() => {
  if (alive(Number(parent))) return
  clearInterval(timer)
  let pids = []
  try { pids = JSON.parse(fs.readFileSync(file, 'utf8')) } catch {}
  kill(pids, 'SIGTERM')
  setTimeout(() => { kill(pids, 'SIGKILL'); try { fs.rmSync(file) } catch {} process.exit(0) }, 2000)
}, 500)
`
let watchdog: { file: string; process: ChildProcess } | undefined

function stopWatchdog(): void {
  if (!watchdog) return
  watchdog.process.kill('SIGKILL')
  fs.rmSync(watchdog.file, { force: true })
  watchdog = undefined
}

/** Keeps the watchdog's list equal to the live children; starts it with the first, stops it after the last. */
function syncWatchdog(): void {
  if (live.size === 0) {
    stopWatchdog()
    return
  }
  if (!watchdog) {
    const file = path.join(os.tmpdir(), `sso-devnet-watchdog-${process.pid}.json`)
    fs.writeFileSync(file, '[]')
    const child = spawn(process.execPath, ['-e', watchdogScript, String(process.pid), file], {
      detached: true,
      stdio: 'ignore',
    })
    child.unref()
    watchdog = { file, process: child }
  }
  fs.writeFileSync(watchdog.file, JSON.stringify([...live].map((child) => child.pid)))
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/** Last `lines` lines of a log file (empty when it does not exist). */
export function tail(file: string, lines = 40): string {
  if (!fs.existsSync(file)) return ''
  const text = fs.readFileSync(file, 'utf8').trimEnd()
  return text.split('\n').slice(-lines).join('\n')
}

/** Spawns `command` detached (own process group) with stdout+stderr appended to `<logDir>/<name>.log`. */
export function spawnChild(parameters: {
  name: string
  command: string
  args: readonly string[]
  logDir: string
  cwd?: string
  env?: NodeJS.ProcessEnv
}): Child {
  installExitHook()
  const logFile = path.join(parameters.logDir, `${parameters.name}.log`)
  const fd = fs.openSync(logFile, 'a')
  const child = spawn(parameters.command, parameters.args, {
    cwd: parameters.cwd,
    env: parameters.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  })
  fs.closeSync(fd)
  let exitedFlag = false
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.on('exit', (code, signal) => {
      exitedFlag = true
      live.delete(child)
      syncWatchdog()
      resolve(code ?? signal)
    })
    child.on('error', (error) => {
      exitedFlag = true
      live.delete(child)
      syncWatchdog()
      fs.appendFileSync(logFile, `\n[devnet] could not start ${parameters.command}: ${error.message}\n`)
      resolve(null)
    })
  })
  if (child.pid === undefined) {
    throw new ChildProcessError(
      parameters.name,
      `Could not start ${parameters.name} (${parameters.command}).`,
    )
  }
  live.add(child)
  syncWatchdog()
  const pid = child.pid

  const stop = async (graceMs = 3000): Promise<void> => {
    if (exitedFlag) {
      // The leader may be gone while others in its group still run.
      killGroup(pid, 'SIGKILL')
      return
    }
    killGroup(pid, 'SIGTERM')
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref())
    if ((await Promise.race([exited, timer])) === 'timeout') {
      killGroup(pid, 'SIGKILL')
      await exited
    }
    killGroup(pid, 'SIGKILL')
  }

  return { name: parameters.name, pid, logFile, exited, hasExited: () => exitedFlag, stop }
}

/** Runs a command to completion (a build); throws with its output when it fails. */
export async function runToCompletion(parameters: {
  name: string
  command: string
  args: readonly string[]
  cwd: string
  logDir: string
  /** Called with the running process, so an owner can stop it early. */
  onSpawn?: (child: Child) => void
}): Promise<void> {
  const child = spawnChild(parameters)
  parameters.onSpawn?.(child)
  const code = await child.exited
  if (code !== 0) {
    throw new ChildProcessError(
      parameters.name,
      `${parameters.name} failed (\`${parameters.command} ${parameters.args.join(' ')}\` in ${parameters.cwd}, exit ${code}).`,
      { logFile: child.logFile, logTail: tail(child.logFile, 80) },
    )
  }
}

/**
 * Polls `check` until it returns true; fails early when `child` exits, and after `timeoutMs` with the log tail.
 */
export async function waitHealthy(
  child: Child,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; what: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (child.hasExited()) {
      const code = await child.exited
      throw new ChildProcessError(child.name, `${child.name} exited (${code}) before it was healthy.`, {
        logFile: child.logFile,
        logTail: tail(child.logFile),
      })
    }
    try {
      if (await check()) return
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) {
      throw new ChildProcessError(
        child.name,
        `${child.name} was not healthy (${options.what}) within ${options.timeoutMs} ms.`,
        { logFile: child.logFile, logTail: tail(child.logFile) },
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
