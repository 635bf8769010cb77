import {
  allowance,
  type CallPolicy,
  callPolicy,
  createMemoryKeyStore,
  createSecp256k1SessionSigner,
  encodeSessionSpec,
  lifetime,
  type SessionSpec,
  sessionKeyValidatorAbi,
  type TransferPolicy,
  toSessionAccount,
  transferPolicy,
} from '@sso/client/session'
import { type Address, encodeFunctionData, erc20Abi, type Hex, parseEther } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import type { Stack } from '../../src/index.js'
import { type BenchEnv, errorMessage, recipients, table, type UserOpBytes } from './env.js'

/** Gas of the handleOps tx for each session operation on one account. */
export type SessionColumn = {
  /** Passkey userOps `execute(single, SessionKeyValidator, createSession(spec))` on a deployed account. */
  createErc20: bigint
  createEth: bigint
  createBoth: bigint
  /** Session-signed transfers, 2nd use of the limit onwards (one per run). */
  eth: bigint[]
  erc20: bigint[]
  ethBoth: bigint[]
  erc20Both: bigint[]
  /** The bytes of the last userOp of each row. */
  bytes: Partial<Record<keyof Omit<SessionColumn, 'bytes'>, UserOpBytes>>
}

/** Waits for the next `period` boundary when less than `margin` seconds of the current period are left. */
async function awayFromBoundary(env: BenchEnv, period: number, margin = 90) {
  const now = Number((await env.client.getBlock({ blockTag: 'latest' })).timestamp)
  const wall = Math.floor(Date.now() / 1000)
  const left = period - (Math.max(now, wall) % period)
  if (left < margin) await new Promise((resolve) => setTimeout(resolve, (left + 2) * 1000))
}

type Call = { to: Address; data?: Hex; value?: bigint }

/**
 * Creates a session with a new secp256k1 key on the deployed `owner` (one passkey userOp calling `createSession`,
 * fee limit 1 ETH); returns the gas of that userOp and the session as a viem SmartAccount (`toSessionAccount`).
 */
export async function createBenchSession(
  stack: Stack,
  env: BenchEnv,
  owner: SmartAccount,
  policies: Pick<SessionSpec, 'callPolicies' | 'transferPolicies' | 'expiresAt'>,
): Promise<{ gas: bigint; session: SmartAccount }> {
  const validator = stack.contracts.sessionKeyValidator
  if (!validator) throw new Error('SessionKeyValidator not deployed')
  const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
  const spec: SessionSpec = { signer: signer.publicKey, feeLimit: lifetime(parseEther('1')), ...policies }
  const call = {
    to: validator,
    data: encodeFunctionData({
      abi: sessionKeyValidatorAbi,
      functionName: 'createSession',
      args: [encodeSessionSpec(spec)],
    }),
  }
  const gas = (await env.sendUserOperation(owner, [call])).gasUsed
  const session = await toSessionAccount({
    client: env.client,
    address: owner.address,
    spec,
    signer,
    validator,
  })
  return { gas, session }
}

/**
 * The benchmark's policies: the token's `transfer` (recipient Equal `to`, amount under a daily Allowance of 100) and
 * ETH transfers to `to` (at most 0.01 per use, 1 over the session).
 */
export function benchPolicies(
  env: BenchEnv,
  to: Address,
): { erc20Policy: CallPolicy; ethPolicy: TransferPolicy } {
  return {
    erc20Policy: callPolicy({
      abi: erc20Abi,
      functionName: 'transfer',
      target: env.tokenAddress,
      args: [{ equal: to }, { limit: allowance(parseEther('100'), '1d') }],
    }),
    ethPolicy: transferPolicy({
      target: to,
      maxValuePerUse: parseEther('0.01'),
      valueLimit: lifetime(parseEther('1')),
    }),
  }
}

/**
 * Measures sessions on a fresh SsoAccount (deployed by a first passkey userOp), with secp256k1 session keys and
 * three specs: an ERC-20 `transfer` policy (recipient Equal `recipients[0]`, amount under a daily Allowance), an
 * ETH transfer policy (to `recipients[0]`, lifetime limit), and both policies in one spec. Each spec is created by
 * a passkey userOp, then each session sends `runs` transfers after one unmeasured use (the first use of a limit
 * writes a fresh slot). With `prepaid` the account has an EntryPoint deposit before the first session is
 * created (no prefund payment in any measured op).
 */
export async function measureSessionAccount(
  stack: Stack,
  env: BenchEnv,
  options: { prepaid: boolean; runs: number },
): Promise<SessionColumn> {
  if (!stack.contracts.sessionKeyValidator) throw new Error('SessionKeyValidator not deployed')
  const [to] = recipients as [Address]
  const owner: SmartAccount = await env.newSsoAccount()
  await env.sendUserOperation(owner, [{ to, value: 1n }]) // deploys the account
  if (options.prepaid) await env.deposit(owner.address)

  // An allowance-consuming op is valid only inside its period, and Alto checks that window on the wall clock.
  await awayFromBoundary(env, 86_400)
  const now = Number((await env.client.getBlock({ blockTag: 'latest' })).timestamp)
  const { erc20Policy, ethPolicy } = benchPolicies(env, to)

  const createSession = (policies: Pick<SessionSpec, 'callPolicies' | 'transferPolicies'>) =>
    createBenchSession(stack, env, owner, { ...policies, expiresAt: now + 3600 })
  const bytes: SessionColumn['bytes'] = {}
  const repeat = async (row: keyof SessionColumn['bytes'], session: SmartAccount, call: Call) => {
    await env.sendUserOperation(session, [call])
    const gas: bigint[] = []
    for (let run = 0; run < options.runs; run++) {
      const receipt = await env.sendUserOperation(session, [call])
      gas.push(receipt.gasUsed)
      bytes[row] = receipt.bytes
    }
    return gas
  }

  const erc20Only = await createSession({ callPolicies: [erc20Policy], transferPolicies: [] })
  const ethOnly = await createSession({ callPolicies: [], transferPolicies: [ethPolicy] })
  const both = await createSession({ callPolicies: [erc20Policy], transferPolicies: [ethPolicy] })
  const ethCall: Call = { to, value: 1n }
  const erc20Call: Call = env.transferCall(to)
  return {
    createErc20: erc20Only.gas,
    createEth: ethOnly.gas,
    createBoth: both.gas,
    eth: await repeat('eth', ethOnly.session, ethCall),
    erc20: await repeat('erc20', erc20Only.session, erc20Call),
    ethBoth: await repeat('ethBoth', both.session, ethCall),
    erc20Both: await repeat('erc20Both', both.session, erc20Call),
    bytes,
  }
}

/** Median of the values (the lower middle for an even count: a measured figure, not an average). */
export function medianGas(values: bigint[]): bigint | undefined {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

type SessionRow = keyof Omit<SessionColumn, 'bytes'>
/** Which column a target is for: both, or only the prepaid deposit's (the session ETH targets, like the passkey one). */
type TargetOf = 'both' | 'prepaid'
const sessionRows: [SessionRow, string, bigint, bigint, TargetOf?][] = [
  // [row, label, target, the reference implementation's figure, the column the target is for (default both)]
  ['createErc20', 'create session: ERC-20 policy (passkey userOp)', 180_000n, 253_346n],
  ['createEth', 'create session: ETH policy (passkey userOp)', 180_000n, 253_346n],
  ['createBoth', 'create session: ERC-20 + ETH policies (passkey userOp)', 180_000n, 253_346n],
  ['eth', 'session ETH transfer (spec: ETH policy)', 93_000n, 138_519n, 'prepaid'],
  [
    'erc20',
    'session ERC-20 transfer, recipient Equal + amount Allowance (spec: ERC-20 policy)',
    115_000n,
    153_437n,
  ],
  ['ethBoth', 'session ETH transfer (spec: both policies)', 100_000n, 138_519n, 'prepaid'],
  ['erc20Both', 'session ERC-20 transfer, same constraints (spec: both policies)', 115_000n, 153_437n],
]

/**
 * The "Sessions" part of `pnpm bench:gas`: {@link measureSessionAccount} self-funded and with a prepaid
 * EntryPoint deposit, as a markdown table (medians of the repeated rows), every run, and the targets.
 */
export async function runSessionsBench(stack: Stack, env: BenchEnv, runs = 5): Promise<string> {
  const columns: Partial<Record<'selfFunded' | 'prepaid', SessionColumn>> = {}
  const errors: string[] = []
  for (const [key, prepaid] of [
    ['selfFunded', false],
    ['prepaid', true],
  ] as const) {
    try {
      columns[key] = await measureSessionAccount(stack, env, { prepaid, runs })
    } catch (error) {
      if (process.env.BENCH_DEBUG) console.error(error)
      errors.push(`${prepaid ? 'prepaid deposit' : 'self-funded'}: not measured (${errorMessage(error)})`)
    }
  }
  const figure = (column: SessionColumn | undefined, row: SessionRow) => {
    const value = column?.[row]
    return value === undefined ? undefined : typeof value === 'bigint' ? value : medianGas(value)
  }
  const format = (value: bigint | undefined) => (value === undefined ? '—' : value.toLocaleString('en-US'))
  const rows = sessionRows.map(([row, label, target, reference, targetOf]) => [
    row.startsWith('create') ? label : `${label}, median of ${runs}`,
    format(figure(columns.selfFunded, row)),
    format(figure(columns.prepaid, row)),
    `≤ ${format(target)}${targetOf === 'prepaid' ? ' prepaid' : ''}`,
    format(reference),
    row.startsWith('create')
      ? '—'
      : ((bytes) => (bytes ? `${bytes.calldata} / ${bytes.signature}` : '—'))(
          columns.prepaid?.bytes[row as keyof SessionColumn['bytes']],
        ),
  ])
  const lines = [
    'Sessions (SessionKeyValidator, secp256k1 session keys from @sso/client/session; handleOps tx gas through Alto,',
    `one userOp per bundle; transfers: uses 2 to ${runs + 1} of each limit, the first use writes a fresh slot).`,
    'ERC-20 policy: transfer(to Equal recipient, amount under a daily Allowance); ETH policy: one target,',
    'max per use + lifetime limit. The spec travels in every session signature, so its size counts.',
    '',
    table(
      [
        'operation',
        'self-funded',
        'prepaid deposit',
        'target',
        'reference impl.',
        'bytes (prepaid: tx / sig)',
      ],
      rows,
    ),
    '',
  ]
  for (const [key, name] of [
    ['selfFunded', 'self-funded'],
    ['prepaid', 'prepaid deposit'],
  ] as const) {
    const column = columns[key]
    if (!column) continue
    const runsOf = (values: bigint[]) => values.map(format).join(', ')
    lines.push(
      `Runs, ${name}: ETH ${runsOf(column.eth)}; ERC-20 ${runsOf(column.erc20)}; both policies: ETH ${runsOf(column.ethBoth)}; ERC-20 ${runsOf(column.erc20Both)}`,
    )
  }
  lines.push(...errors)
  const targets: string[] = []
  for (const [row, label, target, , targetOf] of sessionRows)
    for (const [key, name] of [
      ['selfFunded', 'self-funded'],
      ['prepaid', 'prepaid deposit'],
    ] as const) {
      if (targetOf === 'prepaid' && key !== 'prepaid') continue
      const value = figure(columns[key], row)
      const met = value !== undefined && value <= target
      targets.push(`- ${met ? 'met' : 'MISSED'}: ${label} ≤ ${format(target)} (${name})`)
    }
  lines.push('Targets:', ...targets)
  return lines.join('\n')
}
