/**
 * Waits for submitted userOps of one chain (docs/architecture.md, section 5): one loop per chain reads the
 * EntryPoint's `UserOperationEvent`s of every pending userOp in a single `eth_getLogs`, every 20 ms while a userOp
 * was submitted in the last 2 s, then backing off to 1 s. It also notices a bundler that stopped answering or
 * dropped the userOp (Alto's `pimlico_getUserOperationStatus`, where the bundler has it), and a chain RPC that
 * stopped answering: each ends the wait with a typed error instead of waiting for the timeout.
 */
import type { Address, Client, Hex } from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { getLogs } from 'viem/actions'
import { ChainDisconnectedError, TransactionRejectedError } from '../Errors.js'
import { isUnreachable } from './unreachable.js'

export type Inclusion = { transactionHash: Hex; blockNumber: bigint; success: boolean }

type Pending = {
  hash: Hex
  fromBlock: bigint
  submittedAt: number
  deadline: number
  resolve: (inclusion: Inclusion) => void
  reject: (error: Error) => void
}

const fastMs = 20
const fastWindowMs = 2_000
const slowestMs = 1_000
// How long an endpoint may fail in a row before the waits end (a restart within it is ridden out).
const faultGraceMs = 1_500
// A userOp the bundler no longer knows is checked this often, once it has waited this long.
const statusEveryMs = 500

const userOperationEvent = entryPoint08Abi.find(
  (item) => item.type === 'event' && item.name === 'UserOperationEvent',
) as Extract<(typeof entryPoint08Abi)[number], { type: 'event'; name: 'UserOperationEvent' }>

export type UserOpWatcher = {
  /** Resolves once `hash` is included (from block `fromBlock` on); rejects with a typed error on a fault. */
  wait(hash: Hex, fromBlock: bigint, timeoutMs: number): Promise<Inclusion>
}

export function createUserOpWatcher(parameters: {
  client: Client
  bundler: Client
  entryPoint: Address
  rpcUrl: string
  bundlerUrl: string
}): UserOpWatcher {
  const { client, bundler, entryPoint } = parameters
  const pending = new Map<Hex, Pending>()
  let running = false
  let lastSubmit = 0
  let chainFailingSince: number | undefined
  let bundlerFailingSince: number | undefined
  let statusSupported = true
  let lastStatusCheck = 0

  const settle = (entry: Pending, outcome: { inclusion: Inclusion } | { error: Error }) => {
    pending.delete(entry.hash)
    if ('inclusion' in outcome) entry.resolve(outcome.inclusion)
    else entry.reject(outcome.error)
  }

  async function readLogs(now: number) {
    const entries = [...pending.values()]
    let fromBlock = entries[0]!.fromBlock
    for (const entry of entries) if (entry.fromBlock < fromBlock) fromBlock = entry.fromBlock
    try {
      const logs = await getLogs(client, {
        address: entryPoint,
        event: userOperationEvent,
        args: { userOpHash: entries.map((e) => e.hash) },
        fromBlock,
        toBlock: 'latest',
      })
      chainFailingSince = undefined
      for (const log of logs) {
        const entry = log.args.userOpHash ? pending.get(log.args.userOpHash) : undefined
        if (!entry || log.transactionHash === null || log.blockNumber === null) continue
        settle(entry, {
          inclusion: {
            transactionHash: log.transactionHash,
            blockNumber: log.blockNumber,
            success: log.args.success === true,
          },
        })
      }
    } catch (error) {
      if (!isUnreachable(error)) return
      chainFailingSince ??= now
      if (now - chainFailingSince < faultGraceMs) return
      for (const entry of [...pending.values()])
        settle(entry, {
          error: new ChainDisconnectedError(
            `The chain's RPC (${parameters.rpcUrl}) stopped answering while the session transaction ${entry.hash} waited to be included. Whether it was executed is unknown until the chain is back: read the session state before sending it again.`,
            { cause: error },
          ),
        })
    }
  }

  async function checkBundler(now: number) {
    const due = [...pending.values()].filter((e) => now - e.submittedAt >= statusEveryMs)
    if (due.length === 0 || now - lastStatusCheck < statusEveryMs) return
    lastStatusCheck = now
    for (const entry of due) {
      try {
        const status = statusSupported
          ? ((await bundler.request({
              method: 'pimlico_getUserOperationStatus',
              params: [entry.hash],
            } as never)) as { status?: string } | null)
          : await bundler.request({ method: 'eth_chainId' } as never)
        bundlerFailingSince = undefined
        const gone = statusSupported && (status as { status?: string } | null)?.status
        if (gone === 'not_found' || gone === 'rejected') {
          // Included meanwhile? The logs decide on the next tick; only a userOp still missing there is dropped.
          await readLogs(now)
          if (pending.has(entry.hash))
            settle(entry, {
              error: new TransactionRejectedError(
                `The bundler (${parameters.bundlerUrl}) dropped the session transaction ${entry.hash} before it was included (${gone === 'rejected' ? 'it refused it' : 'it restarted'}): it was not executed. Send it again.`,
              ),
            })
        }
      } catch (error) {
        if (!isUnreachable(error)) {
          // A bundler without Alto's status method: only whether it answers at all is watched.
          statusSupported = false
          continue
        }
        bundlerFailingSince ??= now
        if (now - bundlerFailingSince < faultGraceMs) return
        await readLogs(now)
        if (pending.has(entry.hash))
          settle(entry, {
            error: new ChainDisconnectedError(
              `The bundler (${parameters.bundlerUrl}) stopped answering before the session transaction ${entry.hash} was included: it has not been executed. Send it again once the bundler is back (the same nonce is used, so at most one of them can execute).`,
              { cause: error },
            ),
          })
      }
    }
  }

  async function loop() {
    running = true
    try {
      let idle = fastMs
      while (pending.size > 0) {
        const now = Date.now()
        for (const entry of [...pending.values()])
          if (now > entry.deadline)
            settle(entry, {
              error: new TransactionRejectedError(
                `The session transaction ${entry.hash} was not included within ${Math.round((entry.deadline - entry.submittedAt) / 1000)} s.`,
              ),
            })
        if (pending.size === 0) break
        await readLogs(now)
        if (pending.size > 0) await checkBundler(Date.now())
        idle = Date.now() - lastSubmit < fastWindowMs ? fastMs : Math.min(idle * 1.5, slowestMs)
        await new Promise((resolve) => setTimeout(resolve, idle))
      }
    } finally {
      running = false
    }
  }

  return {
    wait(hash, fromBlock, timeoutMs) {
      return new Promise<Inclusion>((resolve, reject) => {
        const submittedAt = Date.now()
        lastSubmit = submittedAt
        pending.set(hash, {
          hash,
          fromBlock,
          submittedAt,
          deadline: submittedAt + timeoutMs,
          resolve,
          reject,
        })
        if (!running) void loop()
      })
    },
  }
}
