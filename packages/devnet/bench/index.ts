/**
 * `pnpm bench`: the gas table (bench/gas.ts), devnet latencies (stack start, userOp send -> receipt through
 * Alto; where the time of a session transaction goes and 50 of them at once, bench/latency.ts) on one private
 * stack, then the browser flow latencies of the e2e suite and the dashboard's open -> every panel filled with 100
 * and 1,000 history entries (`@sso/playwright` bench).
 * Reports; asserts nothing. `--no-flows` skips the browser part.
 */
import { spawn } from 'node:child_process'
import { lifetime, transferPolicy } from '@sso/client/session'
import { type Hex, parseEther } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import { startStack } from '../src/index.js'
import { runGasBench } from './gas.js'
import { type BenchEnv, createBenchEnv, errorMessage, recipients, table } from './internal/env.js'
import { createBenchSession } from './internal/sessions.js'
import { runLatencyBench } from './latency.js'

const runs = 10
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const ms = (value: number) => `${value.toFixed(0)} ms`

async function userOpLatencies(env: BenchEnv, account: SmartAccount): Promise<number[]> {
  // Deploy first so every measured op is the same kind (for a session: the first use writes its limit's slot).
  await env.sendUserOperation(account, [{ to: recipients[0]!, value: 1n }])
  const latencies: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await env.sendUserOperation(account, [{ to: recipients[0]!, value: 1n }])
    latencies.push(performance.now() - started)
  }
  return latencies
}

const rows: string[][] = []
// The first start may build the web apps; the row measures a start with fresh builds.
await startStack({ ports: 'auto', web: 'static', quiet: true })
  .then((stack) => stack.stop())
  .catch(() => {})
for (const web of ['none', 'static'] as const) {
  const label = `stack start (web: ${web}, builds up to date)`
  try {
    const started = performance.now()
    const stack = await startStack({ ports: 'auto', web, quiet: true })
    rows.push([label, ms(performance.now() - started), '1 run'])
    await stack.stop()
  } catch (error) {
    rows.push([label, 'n/a', errorMessage(error).split('\n')[0]!])
  }
}

const stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
try {
  const env = await createBenchEnv(stack)
  console.log(`\n${await runGasBench(stack, env)}`)

  const simpleKey: Hex = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'
  const simple = await userOpLatencies(env, await env.newSimpleAccount(simpleKey))
  rows.push([
    'SimpleAccount userOp: send -> receipt (Alto)',
    ms(median(simple)),
    `median of ${runs}, max ${ms(Math.max(...simple))}`,
  ])
  try {
    const sso = await userOpLatencies(env, await env.newSsoAccount())
    rows.push([
      'SsoAccount userOp: sign + send -> receipt (Alto)',
      ms(median(sso)),
      `median of ${runs}, max ${ms(Math.max(...sso))}`,
    ])
  } catch (error) {
    rows.push(['SsoAccount userOp: sign + send -> receipt (Alto)', 'n/a', errorMessage(error)])
  }
  const sessionLabel = 'session userOp (secp256k1 key): sign + send -> receipt (Alto)'
  try {
    const owner = await env.newSsoAccount()
    await env.sendUserOperation(owner, [{ to: recipients[0]!, value: 1n }]) // deploys it
    const now = Number((await env.client.getBlock({ blockTag: 'latest' })).timestamp)
    const { session } = await createBenchSession(stack, env, owner, {
      expiresAt: now + 3600,
      callPolicies: [],
      transferPolicies: [
        transferPolicy({ target: recipients[0]!, maxValuePerUse: 1n, valueLimit: lifetime(parseEther('1')) }),
      ],
    })
    const times = await userOpLatencies(env, session)
    rows.push([sessionLabel, ms(median(times)), `median of ${runs}, max ${ms(Math.max(...times))}`])
  } catch (error) {
    rows.push([sessionLabel, 'n/a', errorMessage(error)])
  }
  try {
    console.log(`\n${await runLatencyBench(stack, env)}`)
  } catch (error) {
    console.log(`\nSession transaction latency: not measured (${errorMessage(error)})`)
  }
} finally {
  await stack.stop()
}
console.log(`\nDevnet latencies\n\n${table(['what', 'time', 'notes'], rows)}`)

if (!process.argv.includes('--no-flows')) {
  console.log('\nBrowser flow latencies (pnpm --filter @sso/playwright bench)\n')
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('pnpm', ['--filter', '@sso/playwright', 'bench'], { stdio: 'inherit' })
    child.on('exit', resolve)
    child.on('error', () => resolve(null))
  })
  if (code !== 0) process.exitCode = 1
}
