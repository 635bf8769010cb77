/**
 * `pnpm bench:gas`: gas used by the handleOps transaction (or the plain transaction) for the same operations
 * from a plain EOA, the ERC-4337 reference SimpleAccount v0.8 and our SsoAccount (passkey), on one devnet run.
 * Every userOp goes through Alto, self-funded (no paymaster), one userOp per bundle. Reports; asserts nothing.
 * `BENCH_DEBUG=1` prints the full error when a column can't be measured.
 */
import { pathToFileURL } from 'node:url'
import type { Hex } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { type Stack, startStack } from '../src/index.js'
import {
  type BenchEnv,
  type Call,
  createBenchEnv,
  errorMessage,
  recipients,
  table,
  type UserOpBytes,
} from './internal/env.js'
import { runRecoveryBench } from './internal/recovery.js'
import { runSessionsBench } from './internal/sessions.js'

// More anvil dev keys (mnemonic "test test … junk"), #3 and #4: the EOA and the SimpleAccount owner.
const eoaKey: Hex = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'
const simpleOwnerKey: Hex = '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a'

type Row = 'deploy' | 'eth' | 'erc20' | 'batch' | 'sponsored' | 'ethPrepaid' | 'erc20Prepaid'
const rowLabels: Record<Row, string> = {
  deploy: 'first userOp: deploy + ETH transfer',
  eth: 'ETH transfer',
  erc20: 'ERC-20 transfer',
  batch: '3 ERC-20 transfers (EOA: 3 txs)',
  sponsored: 'ETH transfer, SponsorPaymaster pays',
  ethPrepaid: 'ETH transfer, prepaid EntryPoint deposit',
  erc20Prepaid: 'ERC-20 transfer, prepaid EntryPoint deposit',
}
type Column = Partial<Record<Row, bigint>>
type BytesColumn = Partial<Record<Row, UserOpBytes>>

async function measureAccount(
  env: BenchEnv,
  account: SmartAccount,
  bytes: BytesColumn = {},
): Promise<Column> {
  const [first] = recipients as [`0x${string}`]
  let row: Row = 'deploy'
  const send = async (calls: Call[], options?: { sponsored?: boolean }) => {
    const receipt = await env.sendUserOperation(account, calls, options)
    bytes[row] = receipt.bytes
    return receipt.gasUsed
  }
  const column: Column = {}
  column.deploy = await send([{ to: first, value: 1n }])
  row = 'eth'
  column.eth = await send([{ to: first, value: 1n }])
  row = 'erc20'
  column.erc20 = await send([env.transferCall(first)])
  row = 'batch'
  column.batch = await send(recipients.map((to) => env.transferCall(to)))
  row = 'sponsored'
  column.sponsored = await send([{ to: first, value: 1n }], { sponsored: true })
  // With a deposit that covers the prefund, the account makes no payment call to the EntryPoint: the cheapest
  // self-paid shape, and the one reference figures are often taken with.
  await env.deposit(account.address)
  row = 'ethPrepaid'
  column.ethPrepaid = await send([{ to: first, value: 1n }])
  row = 'erc20Prepaid'
  column.erc20Prepaid = await send([env.transferCall(first)])
  return column
}

/** Runs the gas benchmark on a running stack and returns the report (a markdown table and notes). */
export async function runGasBench(stack: Stack, env?: BenchEnv): Promise<string> {
  env ??= await createBenchEnv(stack)
  const [first] = recipients as [`0x${string}`]

  const eoa = privateKeyToAccount(eoaKey)
  await env.fund(eoa.address)
  const eoaColumn: Column = {
    eth: (await env.sendTransaction(eoa, { to: first, value: 1n })).gasUsed,
    erc20: (await env.sendTransaction(eoa, env.transferCall(first))).gasUsed,
    batch: 0n,
  }
  for (const to of recipients)
    eoaColumn.batch! += (await env.sendTransaction(eoa, env.transferCall(to))).gasUsed

  const simpleBytes: BytesColumn = {}
  const simpleColumn = await measureAccount(env, await env.newSimpleAccount(simpleOwnerKey), simpleBytes)

  // ---- SsoAccount columns (passkey signer: @sso/client's toSsoAccount + createTestPasskey) ----
  let ssoColumn: Column = {}
  const ssoBytes: BytesColumn = {}
  let ssoError: string | undefined
  try {
    ssoColumn = await measureAccount(env, await env.newSsoAccount(), ssoBytes)
  } catch (error) {
    if (process.env.BENCH_DEBUG) console.error(error)
    ssoError = errorMessage(error)
  }
  // ---- end of SsoAccount columns ----

  const format = (value: bigint | undefined) => (value === undefined ? '—' : value.toLocaleString('en-US'))
  const ratio = (a: bigint | undefined, b: bigint | undefined) =>
    a === undefined || b === undefined || b === 0n ? '—' : `${(Number(a) / Number(b)).toFixed(2)}×`
  const formatBytes = (value: UserOpBytes | undefined) =>
    value === undefined ? '—' : `${value.calldata} / ${value.signature}`
  const rows = (Object.keys(rowLabels) as Row[]).map((row) => [
    rowLabels[row],
    format(eoaColumn[row]),
    format(simpleColumn[row]),
    ratio(simpleColumn[row], eoaColumn[row]),
    format(ssoColumn[row]),
    ratio(ssoColumn[row], simpleColumn[row]),
    ratio(ssoColumn[row], eoaColumn[row]),
    formatBytes(simpleBytes[row]),
    formatBytes(ssoBytes[row]),
  ])
  const lines = [
    'Gas used (handleOps tx for smart accounts, one userOp per bundle, self-funded unless noted; plain tx for the EOA)',
    'and bytes sent (the handleOps calldata / the userOp signature in it)',
    '',
    table(
      [
        'operation',
        'EOA',
        'SimpleAccount',
        'Simple/EOA',
        'SsoAccount',
        'Sso/Simple',
        'Sso/EOA',
        'Simple bytes',
        'Sso bytes',
      ],
      rows,
    ),
    '',
  ]
  if (ssoError) lines.push(`SsoAccount: not measured (${ssoError})`)
  else {
    const { eth, erc20, deploy, ethPrepaid, erc20Prepaid } = ssoColumn
    const atMost = (value: bigint | undefined, limit: bigint) => value !== undefined && value <= limit
    const withinRatio = (value: bigint | undefined, base: bigint | undefined) =>
      value !== undefined && base !== undefined && value * 10n <= base * 12n
    const signatureBytes = ssoBytes.ethPrepaid?.signature
    const targets: [string, boolean][] = [
      ['passkey ETH transfer ≤ 100,000 (self-funded)', atMost(eth, 100_000n)],
      ['passkey ETH transfer ≤ 93,000 (prepaid deposit)', atMost(ethPrepaid, 93_000n)],
      [
        // 226 bytes before the compact authenticatorData (docs/webauthn.md)
        `passkey signature ≤ 2/3 of 226 bytes, i.e. ≤ 150 (now ${signatureBytes ?? '—'})`,
        signatureBytes !== undefined && signatureBytes <= 150,
      ],
      ['passkey ETH transfer ≤ 1.2× SimpleAccount (self-funded)', withinRatio(eth, simpleColumn.eth)],
      [
        'passkey ETH transfer ≤ 1.2× SimpleAccount (prepaid deposit)',
        withinRatio(ethPrepaid, simpleColumn.ethPrepaid),
      ],
      ['passkey ERC-20 transfer ≤ 107,000 (self-funded)', atMost(erc20, 107_000n)],
      ['passkey ERC-20 transfer ≤ 107,000 (prepaid deposit)', atMost(erc20Prepaid, 107_000n)],
      ['deployment via first userOp ≤ 350,000', atMost(deploy, 350_000n)],
    ]
    lines.push('Targets:', ...targets.map(([name, met]) => `- ${met ? 'met' : 'MISSED'}: ${name}`))
  }
  lines.push('', await runSessionsBench(stack, env))
  // Last: it moves the devnet's clock past the recovery delay (and back).
  lines.push('', await runRecoveryBench(stack, env))
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now()
  const stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
  try {
    console.log(`\n${await runGasBench(stack)}`)
    console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s including the devnet start)`)
  } finally {
    await stack.stop()
  }
}
