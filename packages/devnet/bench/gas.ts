/**
 * `pnpm bench:gas`: gas used by the handleOps transaction (or the plain transaction) for the same operations
 * from a plain EOA, the ERC-4337 reference SimpleAccount v0.8 and our SsoAccount (passkey), on one devnet run.
 * Every userOp goes through Alto, self-funded (no paymaster), one userOp per bundle. Reports; asserts nothing.
 */

import { toSsoAccount } from '@sso/client/account'
import { createTestPasskey } from '@sso/client/testing'
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeDeployData,
  encodeFunctionData,
  type Hex,
  http,
  type PublicClient,
  parseAbi,
  parseEther,
} from 'viem'
import { createBundlerClient, type SmartAccount } from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { anvilKeys, startStack } from '../src/index.js'
import { simpleAccountFactoryBytecode, toSimpleAccount } from './internal/SimpleAccount.js'
import { compileBenchToken } from './internal/token.js'

// More anvil dev keys (mnemonic "test test … junk"), #3 and #4: the EOA and the SimpleAccount owner.
const eoaKey: Hex = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'
const simpleOwnerKey: Hex = '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a'

/** Recipients that already hold ETH and tokens: transfers to them are warm (no new account, no 0 -> x slot). */
const recipients: Address[] = [
  '0x1111111111111111111111111111111111111111',
  '0x2222222222222222222222222222222222222222',
  '0x3333333333333333333333333333333333333333',
]

type Row = 'deploy' | 'eth' | 'erc20' | 'batch'
const rowLabels: Record<Row, string> = {
  deploy: 'first userOp: deploy + ETH transfer',
  eth: 'ETH transfer',
  erc20: 'ERC-20 transfer',
  batch: '3 ERC-20 transfers (EOA: 3 txs)',
}
type Column = Partial<Record<Row, bigint>>

const started = Date.now()
const stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
try {
  const chain: Chain = defineChain({
    id: stack.chainId,
    name: 'SSO Devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [stack.rpcUrl] } },
  })
  const transport = http(stack.rpcUrl)
  const client = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient
  const funder = createWalletClient({ chain, transport, account: privateKeyToAccount(anvilKeys[0]) })

  const send = async (
    wallet: { sendTransaction: typeof funder.sendTransaction },
    account: Account,
    tx: {
      to?: Address
      data?: Hex
      value?: bigint
    },
  ) => {
    const hash = await wallet.sendTransaction({ account, chain, ...tx } as Parameters<
      typeof funder.sendTransaction
    >[0])
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 20 })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return receipt
  }

  // The token, the SimpleAccountFactory, warm recipients.
  const token = compileBenchToken()
  const tokenReceipt = await send(funder, funder.account, {
    data: encodeDeployData({
      abi: token.abi,
      bytecode: token.bytecode,
      args: [funder.account.address, parseEther('1000000')],
    }),
  })
  const tokenAddress = tokenReceipt.contractAddress!
  const factoryReceipt = await send(funder, funder.account, {
    data: encodeDeployData({
      abi: parseAbi(['constructor(address entryPoint)']),
      bytecode: simpleAccountFactoryBytecode,
      args: [stack.contracts.entryPoint],
    }),
  })
  const simpleFactory = factoryReceipt.contractAddress!
  const transferData = (to: Address, amount = 1n) =>
    encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [to, amount] })
  const fund = async (address: Address) => {
    await send(funder, funder.account, { to: address, value: parseEther('10') })
    await send(funder, funder.account, { to: tokenAddress, data: transferData(address, parseEther('1000')) })
  }
  for (const recipient of recipients) await fund(recipient)

  // EOA
  const eoa = privateKeyToAccount(eoaKey)
  const eoaWallet = createWalletClient({ chain, transport, account: eoa })
  await fund(eoa.address)
  const eoaColumn: Column = {}
  eoaColumn.eth = (await send(eoaWallet, eoa, { to: recipients[0]!, value: 1n })).gasUsed
  eoaColumn.erc20 = (
    await send(eoaWallet, eoa, { to: tokenAddress, data: transferData(recipients[0]!) })
  ).gasUsed
  eoaColumn.batch = 0n
  for (const recipient of recipients) {
    eoaColumn.batch += (
      await send(eoaWallet, eoa, { to: tokenAddress, data: transferData(recipient) })
    ).gasUsed
  }

  // Smart accounts through Alto.
  const bundler = createBundlerClient({
    client,
    chain,
    transport: http(stack.bundlerUrl),
    pollingInterval: 50,
    userOperation: {
      async estimateFeesPerGas({ bundlerClient }) {
        const prices = (await bundlerClient.request({
          method: 'pimlico_getUserOperationGasPrice' as never,
        })) as { fast: { maxFeePerGas: Hex; maxPriorityFeePerGas: Hex } }
        return {
          maxFeePerGas: BigInt(prices.fast.maxFeePerGas),
          maxPriorityFeePerGas: BigInt(prices.fast.maxPriorityFeePerGas),
        }
      },
    },
  })
  const sendOp = async (account: SmartAccount, calls: { to: Address; data?: Hex; value?: bigint }[]) => {
    const hash = await bundler.sendUserOperation({ account, calls })
    const receipt = await bundler.waitForUserOperationReceipt({ hash, pollingInterval: 50, timeout: 30_000 })
    if (!receipt.success) throw new Error(`userOp ${hash} failed: ${receipt.reason ?? 'reverted'}`)
    return receipt.receipt.gasUsed
  }
  const measureAccount = async (account: SmartAccount): Promise<Column> => {
    await fund(account.address)
    return {
      deploy: await sendOp(account, [{ to: recipients[0]!, value: 1n }]),
      eth: await sendOp(account, [{ to: recipients[0]!, value: 1n }]),
      erc20: await sendOp(account, [{ to: tokenAddress, data: transferData(recipients[0]!) }]),
      batch: await sendOp(
        account,
        recipients.map((recipient) => ({ to: tokenAddress, data: transferData(recipient) })),
      ),
    }
  }

  const simple = await toSimpleAccount({
    client,
    owner: privateKeyToAccount(simpleOwnerKey),
    factory: simpleFactory,
  })
  const simpleColumn = await measureAccount(simple)

  // ---- SsoAccount columns (passkey signer from @sso/client) ----
  let ssoColumn: Column = {}
  let ssoError: string | undefined
  try {
    const { accountFactory, webAuthnValidator } = stack.contracts
    if (!accountFactory || !webAuthnValidator)
      throw new Error('AccountFactory / WebAuthnValidator not deployed')
    const passkey = createTestPasskey()
    const sso = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory, webAuthnValidator, entryPoint: stack.contracts.entryPoint },
    })
    ssoColumn = await measureAccount(sso)
  } catch (error) {
    ssoError =
      error instanceof Error
        ? ((error as { shortMessage?: string }).shortMessage ?? error.message)
        : String(error)
  }
  // ---- end of SsoAccount columns ----

  const format = (value: bigint | undefined) => (value === undefined ? '—' : value.toLocaleString('en-US'))
  const ratio = (a: bigint | undefined, b: bigint | undefined) =>
    a === undefined || b === undefined || b === 0n ? '—' : `${(Number(a) / Number(b)).toFixed(2)}×`
  const header = ['operation', 'EOA', 'SimpleAccount', 'Simple/EOA', 'SsoAccount', 'Sso/Simple', 'Sso/EOA']
  const rows = (Object.keys(rowLabels) as Row[]).map((row) => [
    rowLabels[row],
    format(eoaColumn[row]),
    format(simpleColumn[row]),
    ratio(simpleColumn[row], eoaColumn[row]),
    format(ssoColumn[row]),
    ratio(ssoColumn[row], simpleColumn[row]),
    ratio(ssoColumn[row], eoaColumn[row]),
  ])
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => row[index]!.length)))
  const line = (cells: string[]) =>
    `| ${cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join(' | ')} |`
  console.log(`\nGas used (handleOps tx for smart accounts, one userOp per bundle; plain tx for the EOA)\n`)
  console.log(line(header))
  console.log(
    `|${widths.map((width, index) => `${index === 0 ? ':' : ''}${'-'.repeat(width + 1)}${index === 0 ? '' : ':'}`).join('|')}|`,
  )
  for (const row of rows) console.log(line(row))
  if (ssoError) console.log(`\nSsoAccount: not measured (${ssoError})`)
  else {
    const targets = [
      ['passkey ETH transfer ≤ 100,000', ssoColumn.eth !== undefined && ssoColumn.eth <= 100_000n],
      [
        'passkey ETH transfer ≤ 1.2× SimpleAccount',
        ssoColumn.eth !== undefined &&
          simpleColumn.eth !== undefined &&
          ssoColumn.eth * 10n <= simpleColumn.eth * 12n,
      ],
      ['passkey ERC-20 transfer ≤ 107,000', ssoColumn.erc20 !== undefined && ssoColumn.erc20 <= 107_000n],
      [
        'deployment via first userOp ≤ 350,000',
        ssoColumn.deploy !== undefined && ssoColumn.deploy <= 350_000n,
      ],
    ] as const
    console.log(`\nTargets: ${targets.map(([name, met]) => `${met ? 'met' : 'MISSED'}: ${name}`).join('; ')}`)
  }
  console.log(
    `\n(${((Date.now() - started) / 1000).toFixed(1)} s, token ${tokenAddress}, SimpleAccountFactory ${simpleFactory})`,
  )
} finally {
  await stack.stop()
}
