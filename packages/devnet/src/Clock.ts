import * as fs from 'node:fs'
import * as path from 'node:path'
import { DevnetError, InvalidOptionError } from './Errors.js'

/**
 * The clock of one devnet chain: its anvil, and the file from which its Alto reads how far the chain's time is
 * ahead of the wall clock (Alto judges userOp validity windows by its own clock; see internal/chain-clock.mjs).
 * Plain data, so it can cross processes (e.g. into Playwright workers through the stack description file).
 */
export type ChainClock = {
  rpcUrl: string
  clockFile: string
}

/** Environment variable that names the clock file to Alto's preload. */
export const clockFileEnv = 'SSO_DEVNET_CLOCK_FILE'

// Longer than the preload's re-read interval (10 ms): an op sent once travel returns is judged by the new time.
const settleMs = 30

async function anvilRpc(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  let json: { result?: unknown; error?: { message: string } }
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(5000),
    })
    json = (await response.json()) as typeof json
  } catch (error) {
    throw new DevnetError(`${method} on ${rpcUrl} failed.`, { cause: error })
  }
  if (json.error) throw new DevnetError(`${method} on ${rpcUrl} failed: ${json.error.message}`)
  return json.result
}

function validateClock(clock: ChainClock): void {
  if (typeof clock?.rpcUrl !== 'string' || typeof clock.clockFile !== 'string' || clock.clockFile === '') {
    throw new InvalidOptionError(
      `A chain clock needs an rpcUrl and a clockFile, got ${JSON.stringify(clock)} (does the stack description come from this devnet?).`,
    )
  }
}

/** Writes Alto's offset atomically (a reader never sees half a file). */
/**
 * The chain's time as the devnet's services see it: the wall clock plus the offset time travel wrote to
 * `clockFile` (what Alto's preload reads too), in seconds. A missing or unreadable file means no offset.
 */
export function chainNow(clockFile: string): number {
  let offsetMs = 0
  try {
    const parsed = JSON.parse(fs.readFileSync(clockFile, 'utf8')) as { offsetMs?: unknown }
    if (typeof parsed.offsetMs === 'number' && Number.isFinite(parsed.offsetMs)) offsetMs = parsed.offsetMs
  } catch {
    // No travel yet.
  }
  return Math.floor((Date.now() + offsetMs) / 1000)
}

function writeOffset(clock: ChainClock, offsetSeconds: number): void {
  const temporary = path.join(
    path.dirname(clock.clockFile),
    `.${path.basename(clock.clockFile)}.${process.pid}`,
  )
  fs.writeFileSync(temporary, JSON.stringify({ offsetMs: offsetSeconds * 1000 }))
  fs.renameSync(temporary, clock.clockFile)
}

/** anvil's time offset (seconds its clock is ahead of the wall clock): `evm_increaseTime(0)` answers it. */
async function anvilOffset(rpcUrl: string, seconds = 0): Promise<number> {
  const offset = Number(await anvilRpc(rpcUrl, 'evm_increaseTime', [seconds]))
  if (!Number.isSafeInteger(offset))
    throw new DevnetError(`evm_increaseTime on ${rpcUrl} answered ${offset}.`)
  return offset
}

async function mineAndSettle(clock: ChainClock, offsetSeconds: number): Promise<number> {
  writeOffset(clock, offsetSeconds)
  await anvilRpc(clock.rpcUrl, 'evm_mine', [])
  const block = (await anvilRpc(clock.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as {
    timestamp: string
  }
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  return Number(block.timestamp)
}

/**
 * Moves a devnet chain's time forward by `seconds` (anvil `evm_increaseTime` + `evm_mine`) and its Alto's clock
 * with it, so Alto accepts and bundles userOps whose validity window starts in the chain's (travelled) present.
 * Resolves with the timestamp of the block it mined.
 *
 * @example
 * const stack = await startStack({ web: 'none' })
 * await increaseTime(stack.clock, 3600) // an hour later for anvil and Alto
 */
export async function increaseTime(clock: ChainClock, seconds: number): Promise<number> {
  validateClock(clock)
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new InvalidOptionError(`increaseTime needs a whole number of seconds >= 0, got ${String(seconds)}.`)
  }
  return mineAndSettle(clock, await anvilOffset(clock.rpcUrl, seconds))
}

/**
 * Puts a devnet chain's time back on the wall clock (anvil `evm_setTime` + `evm_mine`) and its Alto's clock
 * with it. Resolves with the timestamp of the block it mined.
 *
 * @example
 * await resetTime(stack.clock) // after a test that travelled
 */
export async function resetTime(clock: ChainClock): Promise<number> {
  validateClock(clock)
  await anvilRpc(clock.rpcUrl, 'evm_setTime', [Math.floor(Date.now() / 1000)])
  return mineAndSettle(clock, await anvilOffset(clock.rpcUrl))
}
