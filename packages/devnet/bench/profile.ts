/**
 * `pnpm --filter @sso/devnet bench:profile`: where the gas of a session userOp and of a passkey userOp goes.
 * Sends each operation through Alto on a fresh devnet (prepaid deposit, warm recipient, 2nd use of every limit),
 * replays the handleOps transaction with anvil's struct-log tracer and prints the gas by call frame and by
 * opcode class (storage, calls, hashing, calldata copies, the rest). `PROFILE_OPS=1` also prints the costliest
 * opcodes of every frame (on stderr). Reports; asserts nothing.
 */
import { pathToFileURL } from 'node:url'
import type { Address, Hex } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import { startStack } from '../src/index.js'
import { type BenchEnv, type Call, createBenchEnv, recipients, table } from './internal/env.js'
import { benchPolicies, createBenchSession } from './internal/sessions.js'

type StructLog = { pc: number; op: string; gas: number; gasCost: number; depth: number; stack?: Hex[] }

const CALLS = new Set(['CALL', 'STATICCALL', 'DELEGATECALL', 'CALLCODE'])
const classOf = (op: string) =>
  op === 'SLOAD' || op === 'SSTORE' || op === 'TLOAD' || op === 'TSTORE'
    ? op
    : CALLS.has(op)
      ? 'CALL*'
      : op === 'KECCAK256'
        ? 'KECCAK256'
        : op.endsWith('COPY') || op === 'MLOAD' || op === 'MSTORE'
          ? 'COPY/MEM'
          : op.startsWith('LOG')
            ? 'LOG'
            : 'other'
const CLASSES = ['SLOAD', 'SSTORE', 'CALL*', 'KECCAK256', 'COPY/MEM', 'LOG', 'other'] as const

/**
 * Self gas of every step (a call's own cost excludes what its callee used), summed per frame label
 * (`depth:address`, the code address for DELEGATECALL frames) and opcode class.
 */
function profile(logs: StructLog[], names: Map<string, string>, txTo: Address) {
  const frames: string[] = [names.get(txTo.toLowerCase()) ?? txTo]
  const totals = new Map<string, Record<string, number>>()
  const ops = new Map<string, Map<string, number>>()
  const add = (frame: string, cls: string, gas: number, op = cls) => {
    const byOp = ops.get(frame) ?? new Map<string, number>()
    byOp.set(op, (byOp.get(op) ?? 0) + gas)
    ops.set(frame, byOp)
    const row = totals.get(frame) ?? Object.fromEntries(CLASSES.map((c) => [c, 0]))
    row[cls] = (row[cls] ?? 0) + gas
    totals.set(frame, row)
  }
  for (let i = 0; i < logs.length; i++) {
    const step = logs[i]!
    const frame = frames[step.depth - 1] ?? '?'
    const next = logs[i + 1]
    if (CALLS.has(step.op) && next && next.depth > step.depth) {
      const stack = step.stack ?? []
      // The EVM calls the low 160 bits of the word (the account's proxy passes its whole ERC-1967 slot, head included).
      const to = `0x${(BigInt(stack[stack.length - 2] ?? '0x0') & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`
      const label = names.get(to) ?? `${to.slice(0, 10)}…`
      frames[step.depth] =
        `${'  '.repeat(step.depth)}${label}${step.op === 'DELEGATECALL' ? ' (delegate)' : ''}`
      // Find the step after the callee returned: the call's inclusive cost minus the callee's usage.
      let j = i + 1
      while (j < logs.length && logs[j]!.depth > step.depth) j++
      const after = logs[j]
      const calleeStart = next.gas
      let calleeEnd = calleeStart
      for (let k = j - 1; k > i; k--) {
        if (logs[k]!.depth === step.depth + 1) {
          calleeEnd = logs[k]!.gas - logs[k]!.gasCost
          break
        }
      }
      const inclusive = after ? step.gas - after.gas : step.gasCost
      add(frame, 'CALL*', inclusive - (calleeStart - calleeEnd))
    } else if (next && next.depth === step.depth) {
      add(frame, classOf(step.op), step.gas - next.gas, step.op)
    } else {
      add(frame, classOf(step.op), step.gasCost, step.op)
    }
  }
  if (process.env.PROFILE_OPS)
    for (const [frame, byOp] of ops)
      console.error(
        frame.trim(),
        [...byOp]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 14)
          .map(([o, g]) => `${o} ${g}`)
          .join(', '),
      )
  return totals
}

async function traceReport(env: BenchEnv, label: string, hash: Hex, names: Map<string, string>) {
  const tx = await env.client.getTransaction({ hash })
  const receipt = await env.client.getTransactionReceipt({ hash })
  // anvil keeps no steps for mined transactions unless started with --steps-tracing: replay the call on the
  // state before its block (the handleOps transaction is alone in its block).
  const trace = (await env.client.request({
    method: 'debug_traceCall' as never,
    params: [
      { from: tx.from, to: tx.to, data: tx.input, gas: `0x${tx.gas.toString(16)}` },
      `0x${(receipt.blockNumber - 1n).toString(16)}`,
      { disableStorage: true, disableMemory: true, disableStack: false },
    ] as never,
  })) as { structLogs: StructLog[]; gas: number }
  const totals = profile(trace.structLogs, names, tx.to!)
  const input = Buffer.from(tx.input.slice(2), 'hex')
  const zeros = input.filter((b) => b === 0).length
  const calldataGas = zeros * 4 + (input.length - zeros) * 16
  const rows = [...totals].map(([frame, row]) => [
    frame,
    ...CLASSES.map((c) => (row[c] ?? 0).toLocaleString('en-US')),
    Object.values(row)
      .reduce((a, b) => a + b, 0)
      .toLocaleString('en-US'),
  ])
  const executed = trace.structLogs.length ? trace.structLogs[0]!.gas - trace.structLogs.at(-1)!.gas : 0
  return [
    `### ${label}`,
    `tx gas ${receipt.gasUsed.toLocaleString('en-US')} = 21,000 + calldata ${calldataGas.toLocaleString('en-US')} (${input.length} bytes, ${zeros} zero) + execution ~${executed.toLocaleString('en-US')} (+ refunds / floor)`,
    '',
    table(['frame', ...CLASSES, 'total'], rows),
    '',
  ].join('\n')
}

async function main() {
  const stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
  try {
    const env = await createBenchEnv(stack)
    const names = new Map<string, string>()
    for (const [name, address] of Object.entries(stack.contracts))
      if (address) names.set(address.toLowerCase(), name)
    names.set(env.tokenAddress.toLowerCase(), 'token')
    const [to] = recipients as [Address]
    const owner: SmartAccount = await env.newSsoAccount()
    await env.sendUserOperation(owner, [{ to, value: 1n }])
    await env.deposit(owner.address)
    names.set(owner.address.toLowerCase(), 'account')
    const implementation = await env.client.getStorageAt({
      address: owner.address,
      slot: '0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc',
    })
    if (implementation) names.set(`0x${implementation.slice(26)}`, 'SsoAccount')

    const now = Number((await env.client.getBlock({ blockTag: 'latest' })).timestamp)
    const { erc20Policy: erc20, ethPolicy: eth } = benchPolicies(env, to)
    const ethSession = await createBenchSession(stack, env, owner, {
      callPolicies: [],
      transferPolicies: [eth],
      expiresAt: now + 3600,
    })
    const erc20Session = await createBenchSession(stack, env, owner, {
      callPolicies: [erc20],
      transferPolicies: [],
      expiresAt: now + 3600,
    })
    const twice = async (account: SmartAccount, call: Call) => {
      await env.sendUserOperation(account, [call])
      return (await env.sendUserOperation(account, [call])).transactionHash
    }
    const reports = [
      await traceReport(env, 'passkey ETH transfer (prepaid)', await twice(owner, { to, value: 1n }), names),
      await traceReport(
        env,
        'session ETH transfer (prepaid)',
        await twice(ethSession.session, { to, value: 1n }),
        names,
      ),
      await traceReport(
        env,
        'session ERC-20 transfer (prepaid)',
        await twice(erc20Session.session, env.transferCall(to)),
        names,
      ),
    ]
    console.log(reports.join('\n'))
  } finally {
    await stack.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
