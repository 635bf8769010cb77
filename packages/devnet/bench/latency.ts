/**
 * Session latencies on the devnet (part of `pnpm bench`; alone: `pnpm --filter @sso/devnet bench:latency`): the
 * dapp's session manager sends an in-policy ETH transfer `runs` times, one after the other, and the table shows
 * where the time goes (reads, estimate, sign, submit, inclusion, receipt; medians), beside the same steps of a
 * passkey userOp as the popup sends it after Approve; then `burst` transfers are
 * fired at once from the same session, and all of them must land with distinct userOps and transactions.
 */
import { lifetime, type SessionManager, transferPolicy } from '@sso/client/session'
import { type Address, type Hex, parseEther } from 'viem'
import { type Stack, startStack } from '../src/index.js'
import { type BenchEnv, createBenchEnv, recipients, table } from './internal/env.js'
import {
  benchSessionManager,
  grantBenchSession,
  type SessionSteps,
  sessionSteps,
  traceFetch,
  watchBlocks,
} from './internal/sessionLatency.js'

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const ms = (value: number) => `${value.toFixed(0)} ms`

type Send = { userOpHash: Hex; transactionHash?: Hex | undefined }

async function sendOnce(
  manager: SessionManager,
  account: Address,
  chainId: number,
  to: Address,
  value: bigint,
): Promise<Send> {
  const sent = manager.send({ account, chainId, calls: [{ to, value }], wait: true }, async () => {
    throw new Error('the bench session fell back to the popup')
  })
  if (!('session' in sent)) throw new Error('the bench transfer is outside the session policy')
  const result = await sent.session
  if ('fallback' in result) throw new Error('the bench session fell back to the popup')
  return result
}

/** Session send latencies and the burst; returns the report (markdown). */
export async function runLatencyBench(
  stack: Stack,
  env: BenchEnv,
  options: { runs?: number; burst?: number } = {},
): Promise<string> {
  const runs = options.runs ?? 10
  const burst = options.burst ?? 50
  const to = recipients[0]!
  const owner = await env.newSsoAccount()
  await env.sendUserOperation(owner, [{ to, value: 1n }]) // deploys it
  const manager = benchSessionManager(stack)
  await grantBenchSession(stack, env, manager, owner, {
    callPolicies: [],
    transferPolicies: [
      transferPolicy({
        target: to,
        maxValuePerUse: parseEther('0.01'),
        valueLimit: lifetime(parseEther('5')),
      }),
    ],
  })
  const trace = traceFetch()
  const steps: SessionSteps[] = []
  try {
    // One unmeasured send: the first use of the limit writes its slot, and clients warm up.
    await sendOnce(manager, owner.address, stack.chainId, to, 1n)
    for (let run = 0; run < runs; run++) {
      const watcher = watchBlocks(stack.rpcUrl, trace.fetch)
      await new Promise((resolve) => setTimeout(resolve, 20))
      trace.start()
      const t0 = performance.now()
      const result = await sendOnce(manager, owner.address, stack.chainId, to, 1n)
      const doneAt = performance.now()
      trace.stop()
      await watcher.stop()
      const receipt = await env.client.getTransactionReceipt({ hash: result.transactionHash! })
      const includedAt = watcher.seenAt(Number(receipt.blockNumber)) ?? doneAt
      steps.push(sessionSteps(trace.requests, includedAt, doneAt, t0))
    }
  } finally {
    trace.restore()
  }

  // The passkey path as the popup takes it (nonce and fees, estimate, passkey signature, submit, receipt polled
  // every 20 ms), with a software passkey: the same steps after the Approve click, without the browser.
  const passkeySteps: SessionSteps[] = []
  const passkeyTrace = traceFetch()
  try {
    for (let run = 0; run < runs; run++) {
      const watcher = watchBlocks(stack.rpcUrl, passkeyTrace.fetch)
      await new Promise((resolve) => setTimeout(resolve, 20))
      passkeyTrace.start()
      const t0 = performance.now()
      const receipt = await env.sendUserOperation(owner, [{ to, value: 1n }])
      const doneAt = performance.now()
      passkeyTrace.stop()
      await watcher.stop()
      const includedAt = watcher.seenAt(Number(receipt.blockNumber)) ?? doneAt
      passkeySteps.push(sessionSteps(passkeyTrace.requests, includedAt, doneAt, t0))
    }
  } finally {
    passkeyTrace.restore()
  }

  const before = await env.client.getBalance({ address: to })
  const started = performance.now()
  const results = await Promise.allSettled(
    Array.from({ length: burst }, () => sendOnce(manager, owner.address, stack.chainId, to, 1n)),
  )
  const burstMs = performance.now() - started
  const landed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))
  const moved = (await env.client.getBalance({ address: to })) - before
  const distinctOps = new Set(landed.map((r) => r.userOpHash)).size
  const blocks = new Set(
    await Promise.all(
      landed.map(async (r) =>
        (await env.client.getTransactionReceipt({ hash: r.transactionHash! })).blockNumber.toString(),
      ),
    ),
  ).size

  const keys: [keyof SessionSteps, string][] = [
    ['reads', 'reads: session state, block, nonce, fees (passkey: nonce, fees)'],
    ['estimate', 'gas estimate (bundler)'],
    ['sign', 'sign (session key / passkey)'],
    ['submit', 'submit (eth_sendUserOperation)'],
    ['inclusion', 'inclusion (bundle + block)'],
    ['receipt', 'receipt (block -> the dapp has it)'],
    ['total', 'request -> receipt'],
  ]
  const rows = keys.map(([key, label]) => {
    const values = steps.map((s) => s[key])
    const passkey = passkeySteps.map((s) => s[key])
    return [label, ms(median(values)), `max ${ms(Math.max(...values))}`, ms(median(passkey))]
  })
  rows.push([
    `${burst} session txs at once: all receipts`,
    ms(burstMs),
    '',
    `${landed.length} landed, ${distinctOps} distinct userOps in ${blocks} blocks, ${moved} wei moved (expected ${burst})${failed.length ? `; failed: ${failed[0]!.split('\n')[0]}` : ''}`,
  ])
  return [
    `Session transaction latency (dapp session manager, secp256k1 key, ETH transfer in policy; median of ${runs}),`,
    'beside a passkey userOp as the popup sends it after Approve (software passkey, same account; median)',
    '',
    table(['step', 'session', 'session notes', 'passkey'], rows),
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
  try {
    const env = await createBenchEnv(stack)
    console.log(await runLatencyBench(stack, env))
  } finally {
    await stack.stop()
  }
}
