/**
 * The indexer source against a real devnet with its indexer (Ponder): for the same actions of an account it gives
 * the same entries as the node-logs source, page by page; stopped, the fallback answers from the node and says so.
 */
import { estimateUserOperationFees, toSsoAccount } from '@sso/client/account'
import { encodeSessionSpec, lifetime, type SessionSpec, sessionId, transferPolicy } from '@sso/client/session'
import { createTestPasskey } from '@sso/client/testing'
import { demoTokenAbi, sessionKeyValidatorAbi } from '@sso/contracts-abi'
import { anvilKeys, type Stack, startStack } from '@sso/devnet'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  type PublicClient,
  parseEther,
} from 'viem'
import { type BundlerClient, createBundlerClient } from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { HistoryChain } from './entries'
import { withFallback } from './fallback'
import type { HistoryEntry, HistorySource } from './HistorySource'
import { createIndexerSource, indexerNotes } from './indexer'
import { createNodeLogsSource } from './nodeLogs'

const friend: Address = '0x000000000000000000000000000000000000f00d'

/** Every entry of `source`, `limit` a page (the cursors are exercised too). */
async function everything(source: HistorySource, limit: number): Promise<HistoryEntry[]> {
  const all: HistoryEntry[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 50; pages++) {
    const page = await source.page(cursor, limit)
    all.push(...page.entries)
    if (!page.next) return all
    cursor = page.next
  }
  throw new Error('more than 50 pages')
}

describe('indexer source on a devnet', { timeout: 120_000 }, () => {
  let stack: Stack
  let client: PublicClient
  let chain: HistoryChain
  let account: Address
  let indexerUrl: string

  /** Resolves once the indexer has the node's newest block. */
  async function caughtUp() {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const head = Number(await client.getBlockNumber({ cacheTime: 0 }))
      const status = (await (await fetch(`${indexerUrl}/status`)).json()) as Record<
        string,
        { id: number; block: { number: number } }
      >
      if ((Object.values(status).find((s) => s.id === chain.id)?.block.number ?? -1) >= head) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error('the indexer did not catch up in 30 s')
  }

  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true, indexer: true })
    const [config] = stack.config.chains
    if (!config?.indexerUrl) throw new Error('the stack has no indexer')
    indexerUrl = config.indexerUrl
    chain = { id: config.id, contracts: config.contracts, tokens: config.tokens }
    const { accountFactory, webAuthnValidator, entryPoint, sessionKeyValidator, demoToken } = stack.contracts
    if (!accountFactory || !webAuthnValidator || !sessionKeyValidator || !demoToken)
      throw new Error('contracts missing')
    const viemChain = defineChain({
      id: stack.chainId,
      name: 'SSO Devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    })
    client = createPublicClient({ chain: viemChain, transport: http(stack.rpcUrl), pollingInterval: 50 })
    const bundler: BundlerClient = createBundlerClient({
      client,
      chain: viemChain,
      transport: http(stack.bundlerUrl),
      pollingInterval: 50,
      userOperation: { estimateFeesPerGas: estimateUserOperationFees },
    })
    const passkey = createTestPasskey()
    const owner = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory, webAuthnValidator, entryPoint },
    })
    account = owner.address
    const funder = createWalletClient({
      chain: viemChain,
      transport: http(stack.rpcUrl),
      account: privateKeyToAccount(anvilKeys[0]),
    })
    const send = async (calls: { to: Address; data?: Hex; value?: bigint }[]) => {
      const hash = await bundler.sendUserOperation({ account: owner, calls })
      const receipt = await bundler.waitForUserOperationReceipt({ hash, timeout: 30_000 })
      if (!receipt.success) throw new Error('user operation reverted')
    }
    const wait = async (hash: Hex) => client.waitForTransactionReceipt({ hash })

    // ETH and DUSD in (a plain transfer, a mint), then the deployment, a session, ETH and DUSD out, a revocation.
    await wait(await funder.sendTransaction({ to: account, value: parseEther('2') }))
    await wait(
      await funder.writeContract({
        address: demoToken,
        abi: demoTokenAbi,
        functionName: 'mint',
        args: [account, 5_000_000n],
      }),
    )
    const now = Number((await client.getBlock()).timestamp)
    const spec: SessionSpec = {
      signer: privateKeyToAccount(anvilKeys[2]).address,
      expiresAt: now + 3600,
      feeLimit: lifetime(parseEther('0.1')),
      callPolicies: [],
      transferPolicies: [transferPolicy({ target: friend, maxValuePerUse: 10n, valueLimit: lifetime(100n) })],
    }
    await send([
      {
        to: sessionKeyValidator,
        data: encodeFunctionData({
          abi: sessionKeyValidatorAbi,
          functionName: 'createSession',
          args: [encodeSessionSpec(spec)],
        }),
      },
    ])
    await send([
      { to: friend, value: 1_000n },
      { to: friend, value: 2_000n },
      {
        to: demoToken,
        data: encodeFunctionData({ abi: demoTokenAbi, functionName: 'transfer', args: [friend, 1_500_000n] }),
      },
    ])
    await send([
      {
        to: sessionKeyValidator,
        data: encodeFunctionData({
          abi: sessionKeyValidatorAbi,
          functionName: 'revokeSession',
          args: [sessionId(spec)],
        }),
      },
    ])
    await caughtUp()
  }, 240_000)

  afterAll(async () => {
    await stack?.stop()
  })

  test('behavior: both sources give the same entries for the same actions, on every page size', async () => {
    const node = createNodeLogsSource({ chain, account, rpc: client })
    const indexer = createIndexerSource({ chain, account, url: indexerUrl, rpc: client })
    const fromNode = await everything(node, 100)
    expect(new Set(fromNode.map((e) => e.kind))).toEqual(
      new Set([
        'eth-in',
        'token-in',
        'module-installed',
        'passkey-added',
        'user-operation',
        'session-created',
        'eth-out',
        'token-out',
        'session-revoked',
      ]),
    )
    expect(fromNode.filter((e) => e.kind === 'eth-out').map((e) => e.amount?.value)).toEqual([2_000n, 1_000n])
    // The indexer follows the account from its deployment (its note says so): the ETH and DUSD sent to the
    // address before are the node's only.
    const deployed = fromNode.filter((e) => e.kind === 'user-operation').at(-1)!.blockNumber
    const sinceDeployment = fromNode.filter((e) => e.blockNumber >= deployed)
    expect(fromNode.length - sinceDeployment.length).toBe(2)
    for (const limit of [100, 3, 1]) expect(await everything(indexer, limit)).toEqual(sinceDeployment)
    expect(indexer.description).toMatch(/^indexer \(127\.0\.0\.1:\d+\)$/)
    expect((await indexer.page(undefined, 5)).notes).toEqual(indexerNotes)
  })

  test('behavior: with the indexer stopped, the fallback answers from the node and names why', async () => {
    const node = createNodeLogsSource({ chain, account, rpc: client })
    const source = withFallback(
      createIndexerSource({ chain, account, url: indexerUrl, rpc: client, timeoutMs: 1_000 }),
      node,
    )
    const first = await source.page(undefined, 4)
    expect(source.kind).toBe('indexer')
    await stack.service('indexer').stop()
    try {
      const second = await source.page(first.next, 100)
      expect(source.kind).toBe('node-logs')
      expect(source.description).toMatch(
        /^node logs \(.*\): the indexer at 127\.0\.0\.1:\d+ does not answer$/,
      )
      // The cursor of the indexer's page continues on the node: together, the whole history once.
      expect([...first.entries, ...second.entries]).toEqual(await everything(node, 100))
      expect(second.notes).not.toEqual(indexerNotes)
    } finally {
      await stack.service('indexer').start()
    }
    await source.page(undefined, 4)
    expect(source.kind).toBe('indexer')
  })
})
