/**
 * The dapp's session manager (@sso/client/session) under load and faults, on a private devnet through Alto:
 * 50 session transactions fired at once all land, each exactly once; a bundler or chain RPC that stops before or
 * while a session transaction is on its way ends it with a typed error, nothing runs twice, and the same call
 * works once the service is back (Stack `service(...).stop()` / `start()`).
 */
import { Errors } from '@sso/client'
import { estimateUserOperationFees, type SsoAccount, toSsoAccount } from '@sso/client/account'
import {
  createMemoryKeyStore,
  createSessionManager,
  encodeSessionSpec,
  lifetime,
  type SessionManager,
  sessionId,
  sessionKeyValidatorAbi,
  sessionSpecFromWire,
  transferPolicy,
} from '@sso/client/session'
import { createTestPasskey } from '@sso/client/testing'
import { ssoAccountAbi } from '@sso/contracts-abi'
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  parseEventLogs,
} from 'viem'
import { type BundlerClient, createBundlerClient, entryPoint08Abi } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { anvilKeys, type Stack, startStack } from './Stack.js'

const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const json = (await response.json()) as { result?: unknown; error?: { message: string } }
  if (json.error) throw new Error(json.error.message)
  return json.result
}

/** What `promise` rejects with; fails the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`Expected a rejection, got ${JSON.stringify(value)}`)
    },
    (error: unknown) => error,
  )
}

// biome-ignore lint/suspicious/noExplicitAny: any constructor signature
type ErrorClass = abstract new (...args: any[]) => Errors.RpcError

function expectRpcError(error: unknown, Class: ErrorClass, code: number, message: RegExp) {
  expect(error).toBeInstanceOf(Class)
  expect((error as Errors.RpcError).code).toBe(code)
  expect((error as Errors.RpcError).shortMessage).toMatch(message)
}

describe('session transactions under load and faults', () => {
  let stack: Stack
  let chain: Chain
  let client: PublicClient
  let bundler: BundlerClient
  let owner: SsoAccount
  let manager: SessionManager
  const value = 1000n

  /** One ETH transfer with the session: the provider's `session.send` with `wait`. */
  const send = async (to: Address) => {
    const sent = manager.send(
      { account: owner.address, chainId: stack.chainId, calls: [{ to, value }], wait: true },
      async () => {
        throw new Error('fell back to the popup')
      },
    )
    if (!('session' in sent)) throw new Error('outside the session policy')
    const result = await sent.session
    if ('fallback' in result) throw new Error('fell back to the popup')
    return result as { userOpHash: Hex; transactionHash: Hex }
  }
  /** The account's UserOperationEvents (all of them: a userOp that ran twice would show twice). */
  const userOpEvents = async () =>
    parseEventLogs({
      abi: entryPoint08Abi,
      eventName: 'UserOperationEvent',
      logs: await client.getLogs({ address: stack.contracts.entryPoint, fromBlock: 0n }),
    }).filter((event) => event.args.sender.toLowerCase() === owner.address.toLowerCase())

  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
    const { accountFactory, webAuthnValidator, entryPoint, sessionKeyValidator } = stack.contracts
    if (!accountFactory || !webAuthnValidator || !sessionKeyValidator)
      throw new Error('AccountFactory / WebAuthnValidator / SessionKeyValidator not deployed')
    chain = defineChain({
      id: stack.chainId,
      name: 'SSO Devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    })
    client = createPublicClient({ chain, transport: http(stack.rpcUrl), pollingInterval: 50 }) as PublicClient
    bundler = createBundlerClient({
      client,
      chain,
      transport: http(stack.bundlerUrl),
      pollingInterval: 50,
      userOperation: { estimateFeesPerGas: estimateUserOperationFees },
    })
    const passkey = createTestPasskey()
    owner = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory, webAuthnValidator, entryPoint },
    })
    const funder = createWalletClient({
      chain,
      transport: http(stack.rpcUrl),
      account: privateKeyToAccount(anvilKeys[0]),
    })
    await client.waitForTransactionReceipt({
      hash: await funder.sendTransaction({ to: owner.address, value: parseEther('10') }),
    })

    const memory = new Map<string, string>()
    manager = createSessionManager({
      keyType: 'secp256k1',
      keyStore: createMemoryKeyStore(),
      storage: {
        getItem: (key) => memory.get(key) ?? null,
        setItem: (key, item) => void memory.set(key, item),
        removeItem: (key) => void memory.delete(key),
      },
      validators: { [stack.chainId]: sessionKeyValidator },
      onOutOfPolicy: 'fail',
    })
    manager.attach({
      emit: () => {},
      chain: (id) =>
        id === stack.chainId ? { id, rpcUrl: stack.rpcUrl, bundlerUrl: stack.bundlerUrl } : undefined,
    })
    await manager.ready()
    const now = Number((await client.getBlock({ blockTag: 'latest' })).timestamp)
    // Any recipient (the policy names none but this one target per transfer policy): one policy per test target.
    const grant = manager.prepareGrant(
      {
        expiresAt: now + 3600,
        feeLimit: lifetime(parseEther('1')),
        transferPolicies: targets.map((target) =>
          transferPolicy({ target, maxValuePerUse: value, valueLimit: lifetime(parseEther('1')) }),
        ),
      },
      { account: owner.address, chainId: stack.chainId },
    )
    const spec = sessionSpecFromWire(grant.params[0].spec)
    // The passkey userOp that deploys the account and creates the session (what the popup sends).
    const hash = await bundler.sendUserOperation({
      account: owner,
      calls: [
        {
          to: sessionKeyValidator,
          data: encodeFunctionData({
            abi: sessionKeyValidatorAbi,
            functionName: 'createSession',
            args: [encodeSessionSpec(spec)],
          }),
        },
      ],
    })
    const receipt = await bundler.waitForUserOperationReceipt({ hash, timeout: 30_000 })
    expect(receipt.success).toBe(true)
    await grant.finish({
      sessionId: sessionId(spec),
      account: owner.address,
      chainId: stack.chainId,
      transactionHash: receipt.receipt.transactionHash,
    })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const targets: Address[] = Array.from({ length: 6 }, randomAddress)
  const [burstTarget, bundlerDown, bundlerGone, bundlerRestart, chainDown, versionMoved] = targets as [
    Address,
    Address,
    Address,
    Address,
    Address,
    Address,
  ]

  test('behavior: 50 session transactions fired at once all land, each exactly once', async () => {
    const before = (await userOpEvents()).length
    const results = await Promise.all(Array.from({ length: 50 }, () => send(burstTarget)))
    expect(new Set(results.map((r) => r.userOpHash)).size).toBe(50)
    expect(await client.getBalance({ address: burstTarget })).toBe(50n * value)
    const events = (await userOpEvents()).slice(before)
    expect(events).toHaveLength(50)
    expect(events.every((event) => event.args.success)).toBe(true)
    expect(new Set(events.map((event) => event.args.userOpHash)).size).toBe(50)
  })

  test("behavior: a gas estimate cached before the account's modules version moved still lands the next transfer, once", async () => {
    // The first send estimates on the validator's fast path and caches the gas for this shape.
    await send(versionMoved)
    const version = () =>
      client.readContract({ address: owner.address, abi: ssoAccountAbi, functionName: 'modulesVersion' })
    const versionBefore = await version()
    // The owner's passkey moves the version (as an install or uninstall does): from now on the session's uses take
    // the general path, which checks the account's modules again and costs more to validate.
    const hash = await bundler.sendUserOperation({
      account: owner,
      calls: [
        {
          to: owner.address,
          data: encodeFunctionData({ abi: ssoAccountAbi, functionName: 'bumpModulesVersion' }),
        },
      ],
    })
    expect((await bundler.waitForUserOperationReceipt({ hash, timeout: 30_000 })).success).toBe(true)
    expect(await version()).toBe(versionBefore + 1n)
    const before = (await userOpEvents()).length
    await send(versionMoved)
    expect(await client.getBalance({ address: versionMoved })).toBe(2n * value)
    const events = (await userOpEvents()).slice(before)
    expect(events).toHaveLength(1)
    expect(events[0]?.args.success).toBe(true)
  })

  test('error: the bundler stopped before the send: ChainDisconnectedError, nothing sent; works once it is back', async () => {
    const bundlerService = stack.service('bundler')
    await bundlerService.stop()
    expect(await bundlerService.health()).toBe(false)
    try {
      const error = await rejectionOf(send(bundlerDown))
      expectRpcError(
        error,
        Errors.ChainDisconnectedError,
        4901,
        /^The bundler \(.+\) did not answer .*nothing was sent/,
      )
    } finally {
      await bundlerService.start()
    }
    expect(await client.getBalance({ address: bundlerDown })).toBe(0n)
    await send(bundlerDown)
    expect(await client.getBalance({ address: bundlerDown })).toBe(value)
  })

  test('error: the bundler stopped while the transaction waited for its bundle: ChainDisconnectedError, not executed; works once it is back', async () => {
    const bundlerService = stack.service('bundler')
    // Manual bundling holds the userOp in Alto's mempool, so the stop comes after the submission.
    await rpc(stack.bundlerUrl, 'debug_bundler_setBundlingMode', ['manual'])
    const pending = rejectionOf(send(bundlerGone))
    const eventsBefore = (await userOpEvents()).length
    try {
      await waitForMempool(stack.bundlerUrl)
      await bundlerService.stop()
      expectRpcError(
        await pending,
        Errors.ChainDisconnectedError,
        4901,
        /^The bundler \(.+\) stopped answering before the session transaction 0x[0-9a-f]{64} was included: it has not been executed/,
      )
    } finally {
      await bundlerService.start()
    }
    expect((await userOpEvents()).length).toBe(eventsBefore)
    expect(await client.getBalance({ address: bundlerGone })).toBe(0n)
    await send(bundlerGone)
    expect(await client.getBalance({ address: bundlerGone })).toBe(value)
  })

  test('error: the bundler restarted and lost the waiting transaction: a typed error, not executed; the same call works', async () => {
    const bundlerService = stack.service('bundler')
    await rpc(stack.bundlerUrl, 'debug_bundler_setBundlingMode', ['manual'])
    const pending = rejectionOf(send(bundlerRestart))
    const eventsBefore = (await userOpEvents()).length
    await waitForMempool(stack.bundlerUrl)
    await bundlerService.stop()
    await bundlerService.start()
    const error = await pending
    // Dropped (the restarted bundler no longer knows it) or unreachable (the restart outlasted the grace).
    if (error instanceof Errors.TransactionRejectedError)
      expectRpcError(
        error,
        Errors.TransactionRejectedError,
        -32003,
        /dropped the session transaction .*it was not executed/,
      )
    else
      expectRpcError(
        error,
        Errors.ChainDisconnectedError,
        4901,
        /stopped answering .*it has not been executed/,
      )
    expect((await userOpEvents()).length).toBe(eventsBefore)
    await send(bundlerRestart)
    expect(await client.getBalance({ address: bundlerRestart })).toBe(value)
    expect((await userOpEvents()).length).toBe(eventsBefore + 1)
  })

  test("error: the chain's RPC stopped: ChainDisconnectedError, nothing sent; works once it is back (with its state)", async () => {
    const chainService = stack.service('chain')
    const balanceBefore = await client.getBalance({ address: owner.address })
    await chainService.stop()
    expect(await chainService.health()).toBe(false)
    try {
      const error = await rejectionOf(send(chainDown))
      expectRpcError(
        error,
        Errors.ChainDisconnectedError,
        4901,
        /^The chain's RPC \(.+\) did not answer .*nothing was sent/,
      )
    } finally {
      await chainService.start()
    }
    expect(await client.getBalance({ address: owner.address })).toBe(balanceBefore)
    expect(await client.getBalance({ address: chainDown })).toBe(0n)
    await send(chainDown)
    expect(await client.getBalance({ address: chainDown })).toBe(value)
  })
})

/** Waits until Alto's mempool holds a userOp (manual bundling mode). */
async function waitForMempool(bundlerUrl: string) {
  const deadline = Date.now() + 30_000
  for (;;) {
    const ops = (await rpc(bundlerUrl, 'debug_bundler_dumpMempool', [
      '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108',
    ])) as unknown[]
    if (ops.length > 0) return
    if (Date.now() > deadline) throw new Error('no userOp reached the mempool')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
