import { toSsoAccount } from '@sso/client/account'
import { createTestPasskey } from '@sso/client/testing'
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  decodeFunctionData,
  defineChain,
  encodeDeployData,
  encodeFunctionData,
  type Hex,
  http,
  type LocalAccount,
  type PublicClient,
  parseAbi,
  parseEther,
  size,
  type TransactionReceipt,
} from 'viem'
import {
  createBundlerClient,
  createPaymasterClient,
  entryPoint08Abi,
  type SmartAccount,
} from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { anvilKeys, type Stack } from '../../src/index.js'
import { simpleAccountFactoryBytecode, toSimpleAccount } from './SimpleAccount.js'
import { compileBenchToken } from './token.js'

/** Recipients that already hold ETH and tokens: transfers to them are warm (no new account, no 0 -> x slot). */
export const recipients: readonly Address[] = [
  '0x1111111111111111111111111111111111111111',
  '0x2222222222222222222222222222222222222222',
  '0x3333333333333333333333333333333333333333',
]

export type Call = { to: Address; data?: Hex; value?: bigint }

/** The calldata of a userOp's handleOps transaction (one userOp per bundle): all of it, and the userOp's signature. */
export type UserOpBytes = { calldata: number; signature: number }

/** A handleOps receipt with the sizes of what the bundler sent. */
export type UserOpReceipt = TransactionReceipt & { bytes: UserOpBytes }

/** What the benchmarks need on a running stack: clients, a funded token, a SimpleAccountFactory, senders. */
export type BenchEnv = Awaited<ReturnType<typeof createBenchEnv>>

/**
 * Deploys the benchmark fixtures on `stack` (an OpenZeppelin ERC-20, the v0.8 SimpleAccountFactory) and funds
 * the warm recipients.
 */
export async function createBenchEnv(stack: Stack) {
  const chain: Chain = defineChain({
    id: stack.chainId,
    name: 'SSO Devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [stack.rpcUrl] } },
  })
  const transport = http(stack.rpcUrl)
  const client = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient
  const funder = privateKeyToAccount(anvilKeys[0])

  /** Sends a plain transaction from a local account and waits for its (successful) receipt. */
  const sendTransaction = async (
    account: LocalAccount,
    tx: Omit<Call, 'to'> & { to?: Address },
  ): Promise<TransactionReceipt> => {
    const wallet = createWalletClient({ chain, transport, account })
    const hash = await wallet.sendTransaction({ account: account as Account, chain, ...tx } as Parameters<
      typeof wallet.sendTransaction
    >[0])
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 20 })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return receipt
  }

  const token = compileBenchToken()
  const tokenAddress = (
    await sendTransaction(funder, {
      data: encodeDeployData({
        abi: token.abi,
        bytecode: token.bytecode,
        args: [funder.address, parseEther('1000000')],
      }),
    })
  ).contractAddress!
  const simpleAccountFactory = (
    await sendTransaction(funder, {
      data: encodeDeployData({
        abi: parseAbi(['constructor(address entryPoint)']),
        bytecode: simpleAccountFactoryBytecode,
        args: [stack.contracts.entryPoint],
      }),
    })
  ).contractAddress!

  const transferCall = (to: Address, amount = 1n): Call => ({
    to: tokenAddress,
    data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [to, amount] }),
  })
  /** 10 ETH and 1000 tokens. */
  const fund = async (address: Address) => {
    await sendTransaction(funder, { to: address, value: parseEther('10') })
    await sendTransaction(funder, transferCall(address, parseEther('1000')))
  }
  for (const recipient of recipients) await fund(recipient)
  /** 1 ETH of EntryPoint deposit for `address`: its userOps then pay no prefund (no call to the EntryPoint). */
  const deposit = async (address: Address) => {
    await sendTransaction(funder, {
      to: stack.contracts.entryPoint,
      value: parseEther('1'),
      data: encodeFunctionData({
        abi: parseAbi(['function depositTo(address account) payable']),
        functionName: 'depositTo',
        args: [address],
      }),
    })
  }

  const bundler = createBundlerClient({
    client,
    chain,
    transport: http(stack.bundlerUrl),
    pollingInterval: 50,
    userOperation: {
      // Alto's own price (what it accepts), not the node's.
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

  /** The devnet's SponsorPaymaster through its ERC-7677 service (a verifying signature, as a real deployment pays). */
  const sponsor = () => {
    const url = stack.chains[0]?.paymasterServiceUrl
    if (!url) throw new Error('the devnet has no paymaster service')
    return createPaymasterClient({ transport: http(url) })
  }

  /** Sends one userOp through Alto and waits for it; returns the handleOps tx receipt and its calldata sizes. */
  const sendUserOperation = async (
    account: SmartAccount,
    calls: Call[],
    options: { sponsored?: boolean } = {},
  ): Promise<UserOpReceipt> => {
    const hash = await bundler.sendUserOperation({
      account,
      calls,
      ...(options.sponsored ? { paymaster: sponsor() } : {}),
    })
    const receipt = await bundler.waitForUserOperationReceipt({ hash, pollingInterval: 20, timeout: 30_000 })
    if (!receipt.success) throw new Error(`userOp ${hash} failed: ${receipt.reason ?? 'reverted'}`)
    const { input } = await client.getTransaction({ hash: receipt.receipt.transactionHash })
    const { args } = decodeFunctionData({ abi: entryPoint08Abi, data: input })
    const [ops] = args as unknown as [{ signature: Hex }[]]
    return {
      ...receipt.receipt,
      bytes: { calldata: size(input), signature: size(ops[0]?.signature ?? '0x') },
    }
  }

  /** A fresh SimpleAccount v0.8 (random owner), funded, not deployed. */
  const newSimpleAccount = async (ownerKey: Hex) => {
    const account = await toSimpleAccount({
      client,
      owner: privateKeyToAccount(ownerKey),
      factory: simpleAccountFactory,
    })
    await fund(account.address)
    return account
  }

  /** A fresh SsoAccount with a software passkey (@sso/client/testing), funded, not deployed. */
  const newSsoAccount = async () => {
    const { accountFactory, webAuthnValidator } = stack.contracts
    if (!accountFactory || !webAuthnValidator)
      throw new Error('AccountFactory / WebAuthnValidator not deployed')
    const passkey = createTestPasskey()
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory, webAuthnValidator, entryPoint: stack.contracts.entryPoint },
    })
    await fund(account.address)
    return account
  }

  return {
    client,
    chain,
    tokenAddress,
    simpleAccountFactory,
    transferCall,
    fund,
    deposit,
    sendTransaction,
    sendUserOperation,
    newSimpleAccount,
    newSsoAccount,
  }
}

/** `shortMessage` of viem errors, else the message. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return (error as { shortMessage?: string }).shortMessage ?? error.message
}

/** Markdown table, first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => row[index]?.length ?? 0)),
  )
  const line = (cells: string[]) =>
    `| ${cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join(' | ')} |`
  const rule = `|${widths.map((width, index) => (index === 0 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}
