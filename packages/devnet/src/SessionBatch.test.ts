/**
 * Batches inside a session, through the dapp's provider on a private devnet: `wallet_sendCalls` with several calls,
 * all within the session's policy, goes out as one session userOp with no popup; a batch with one call outside the
 * policy (plainly, or past what the validator has left) falls back to the popup exactly as a single call does, and
 * sends nothing. The same session through wagmi's actions (`reconnect`, `sendTransaction`) with the sso connector.
 */
import { createProvider, Errors } from '@sso/client'
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
import { sso } from '@sso/client/wagmi'
import { createConfig, getAccount, reconnect, sendTransaction } from '@wagmi/core'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  type PublicClient,
  parseEther,
  parseEventLogs,
} from 'viem'
import { createBundlerClient, entryPoint08Abi } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { anvilKeys, type Stack, startStack } from './Stack.js'

const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address
const toQuantity = (value: bigint) => `0x${value.toString(16)}` as const

describe('batches inside a session', () => {
  let stack: Stack
  let client: PublicClient
  let owner: SsoAccount
  let manager: SessionManager
  let provider: ReturnType<typeof createProvider>
  let storage: {
    getItem(key: string): string | null
    setItem(key: string, item: string): void
    removeItem(key: string): void
  }
  /** Each popup the provider tried to open (the fake window refuses: PopupBlockedError, nothing sent). */
  const opened: string[] = []
  const [alice, bob, stranger] = [randomAddress(), randomAddress(), randomAddress()]
  const perUse = 1000n

  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
    const { accountFactory, webAuthnValidator, entryPoint, sessionKeyValidator } = stack.contracts
    if (!accountFactory || !webAuthnValidator || !sessionKeyValidator)
      throw new Error('AccountFactory / WebAuthnValidator / SessionKeyValidator not deployed')
    const chain = defineChain({
      id: stack.chainId,
      name: 'SSO Devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    })
    client = createPublicClient({ chain, transport: http(stack.rpcUrl), pollingInterval: 50 }) as PublicClient
    const bundler = createBundlerClient({
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
    storage = {
      getItem: (key: string) => memory.get(key) ?? null,
      setItem: (key: string, item: string) => void memory.set(key, item),
      removeItem: (key: string) => void memory.delete(key),
    }
    manager = createSessionManager({
      keyType: 'secp256k1',
      keyStore: createMemoryKeyStore(),
      storage,
      validators: { [stack.chainId]: sessionKeyValidator },
      onOutOfPolicy: 'popup',
    })
    // The dapp is connected (as after eth_requestAccounts) and its window refuses popups: a fallback shows as a
    // PopupBlockedError, synchronously, with the URL of the popup it tried to open.
    storage.setItem('sso.connection', JSON.stringify({ address: owner.address, chainId: stack.chainId }))
    provider = createProvider({
      authServerUrl: 'http://localhost:3002',
      chains: [{ id: stack.chainId, rpcUrl: stack.rpcUrl, bundlerUrl: stack.bundlerUrl }],
      storage,
      session: manager,
      accountChannel: false,
      window: {
        location: { origin: 'http://localhost:3001' },
        addEventListener: () => {},
        removeEventListener: () => {},
        open: (url?: string | URL) => {
          opened.push(String(url))
          return null
        },
      } as never,
    })
    await manager.ready()
    const now = Number((await client.getBlock({ blockTag: 'latest' })).timestamp)
    const grant = manager.prepareGrant(
      {
        expiresAt: now + 3600,
        feeLimit: lifetime(parseEther('1')),
        transferPolicies: [alice, bob].map((target) =>
          transferPolicy({ target, maxValuePerUse: perUse, valueLimit: lifetime(3n * perUse) }),
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

  const sendCalls = (calls: { to: Address; value: bigint }[], capabilities?: Record<string, unknown>) =>
    provider.request({
      method: 'wallet_sendCalls',
      params: [
        {
          version: '2.0.0',
          chainId: toQuantity(BigInt(stack.chainId)),
          from: owner.address,
          atomicRequired: true,
          calls: calls.map((call) => ({ to: call.to, value: toQuantity(call.value) })),
          ...(capabilities ? { capabilities } : {}),
        },
      ],
    }) as Promise<{ id: `0x${string}` }>
  const balances = () => Promise.all([alice, bob, stranger].map((address) => client.getBalance({ address })))

  test('behavior: several calls within the policy go out as one session userOp, no popup; getCallsStatus confirms', async () => {
    const { id } = await sendCalls([
      { to: alice, value: perUse },
      { to: bob, value: perUse },
      { to: alice, value: 500n },
    ])
    type Status = { status: number; atomic: boolean; receipts?: { transactionHash: `0x${string}` }[] }
    const read = () => provider.request({ method: 'wallet_getCallsStatus', params: [id] }) as Promise<Status>
    let status = await read()
    for (let tries = 0; status.status === 100 && tries < 200; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      status = await read()
    }
    expect(status).toMatchObject({ status: 200, atomic: true })
    expect(opened).toEqual([])
    expect(await balances()).toEqual([1500n, 1000n, 0n])
    // One userOp for the three calls, validated by the SessionKeyValidator (its nonce key).
    const receipt = await client.getTransactionReceipt({ hash: status.receipts![0]!.transactionHash })
    const events = parseEventLogs({
      abi: entryPoint08Abi,
      eventName: 'UserOperationEvent',
      logs: receipt.logs,
    })
    expect(events.map((e) => [e.args.userOpHash, e.args.success])).toEqual([[id, true]])
    expect(events[0]!.args.nonce >> 96n).toBe(BigInt(stack.contracts.sessionKeyValidator!))
  })

  test('behavior: one call outside the policy sends the whole batch to the popup, synchronously; nothing is sent', async () => {
    const before = await balances()
    const error = await sendCalls([
      { to: alice, value: 1n },
      { to: stranger, value: 1n },
    ]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Errors.PopupBlockedError)
    expect(opened).toEqual([expect.stringMatching(/^http:\/\/localhost:3002\/confirm\?origin=/)])
    expect(await balances()).toEqual(before)
  })

  test('behavior: a batch past what the validator has left falls back to the popup after the on-chain check', async () => {
    const before = await balances()
    // alice has 3,000 - 1,500 = 1,500 left: two calls of 1,000 each are within maxValuePerUse but not the limit.
    const error = await sendCalls([
      { to: alice, value: perUse },
      { to: alice, value: perUse },
    ]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Errors.PopupBlockedError)
    expect(opened).toHaveLength(2)
    expect(await balances()).toEqual(before)
  })

  test('behavior: through wagmi (the sso connector with the session manager), sendTransaction in policy needs no popup', async () => {
    const devnet = defineChain({
      id: stack.chainId,
      name: 'SSO Devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    })
    const config = createConfig({
      chains: [devnet],
      connectors: [
        sso({
          authServerUrl: 'http://localhost:3002',
          bundlerUrls: { [stack.chainId]: stack.bundlerUrl },
          storage,
          session: manager,
        }),
      ],
      transports: { [stack.chainId]: http(stack.rpcUrl) },
    })
    // The dapp connected earlier (the stored connection): wagmi reconnects without a popup.
    await reconnect(config)
    expect(getAccount(config).address).toBe(owner.address)
    const connector = config.connectors[0]!
    expect(await connector.getSession()).toMatchObject({ account: owner.address, chainId: stack.chainId })
    const before = await client.getBalance({ address: bob })
    const hash = await sendTransaction(config, { to: bob, value: 500n })
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success')
    expect((await client.getBalance({ address: bob })) - before).toBe(500n)
    const state = await connector.getSessionState()
    expect(state?.status).toBe('active')
    expect(state?.transferValueRemaining).toEqual([1500n, 1500n])
  })

  test('behavior: a batch naming a paymaster service (EIP-5792 capability) goes out with the session key, paid by the service', async () => {
    const url = stack.chains[0]?.paymasterServiceUrl
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const before = await client.getBalance({ address: owner.address })
    const popups = opened.length
    const { id } = await sendCalls([{ to: bob, value: 10n }], {
      paymasterService: { url, context: { app: 'http://localhost:3001' } },
    })
    const bundler = createBundlerClient({ client, transport: http(stack.bundlerUrl), pollingInterval: 50 })
    const receipt = await bundler.waitForUserOperationReceipt({ hash: id, timeout: 30_000 })
    expect(receipt.success).toBe(true)
    expect(opened).toHaveLength(popups)
    // The SponsorPaymaster paid (the service signed it); the account paid only the value it sent.
    expect(receipt.paymaster).toBe(stack.contracts.sponsorPaymaster)
    expect(before - (await client.getBalance({ address: owner.address }))).toBe(10n)
    // A capability that is not an http(s) URL is refused before anything is sent.
    const bad = await sendCalls([{ to: bob, value: 10n }], {
      paymasterService: { url: 'javascript:alert(1)' },
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(bad).toBeInstanceOf(Errors.InvalidParamsError)
    expect(opened).toHaveLength(popups)
  })
})
