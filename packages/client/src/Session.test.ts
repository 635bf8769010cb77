import { sessionKeyValidatorAbi } from '@sso/contracts-abi'
import {
  type Address,
  encodeFunctionData,
  encodeFunctionResult,
  erc20Abi,
  type Hex,
  parseEther,
  toHex,
} from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import {
  ConflictingParamsError,
  InvalidParamsError,
  UnauthorizedError,
  UnsupportedMethodError,
} from './Errors.js'
import { expectRpcError, rejectionOf } from './internal/expectError.js'
import { authOrigin, type FakeHandler, installFakeAuthServer } from './internal/fakeAuthServer.js'
import { account, friend, sessionRequest, shop, token, validator } from './internal/sessionSpecFixture.js'
import { createProvider, type Provider } from './Provider.js'
import { createSessionManager, type SessionManager } from './Session.js'
import { SessionPolicyError } from './SessionPolicy.js'
import { createMemoryKeyStore } from './SessionSigner.js'
import { InvalidSessionSpecError, lifetime, sessionSpecFromWire, transferPolicy } from './SessionSpec.js'
import { sessionId } from './SessionSpecEncoding.js'

const txHash: Hex = `0x${'aa'.repeat(32)}`
const chains = [{ id: 31337, rpcUrl: 'http://127.0.0.1:8545', bundlerUrl: 'http://127.0.0.1:4337' }] as const

const answers: FakeHandler = (request) => {
  switch (request.method) {
    case 'eth_requestAccounts':
      return { result: { accounts: [account], chainId: 31337 } }
    case 'wallet_grantPermissions': {
      const spec = sessionSpecFromWire(request.params[0].spec)
      return { result: { sessionId: sessionId(spec), account, chainId: 31337, transactionHash: txHash } }
    }
    case 'wallet_revokePermissions':
      return { result: { transactionHash: txHash } }
    case 'eth_sendTransaction':
      return { result: txHash }
    default:
      return { error: { code: 4200, message: 'no' } }
  }
}

function memoryStorage() {
  const map = new Map<string, string>()
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  }
}

const request = () => sessionRequest(Math.floor(Date.now() / 1000) + 3600)

let server: ReturnType<typeof installFakeAuthServer>
let storage: ReturnType<typeof memoryStorage>
let keyStore: ReturnType<typeof createMemoryKeyStore>
let provider: Provider
let session: SessionManager

function setup(onOutOfPolicy: 'popup' | 'fail') {
  session = createSessionManager({
    onOutOfPolicy,
    keyType: 'secp256k1',
    keyStore,
    storage,
    validators: { 31337: validator },
    // No chain behind these tests: nothing to estimate after a grant.
    estimateAfterGrant: false,
  })
  provider = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage, session })
}

beforeEach(() => {
  server = installFakeAuthServer(answers)
  storage = memoryStorage()
  keyStore = createMemoryKeyStore()
  setup('fail')
})
afterEach(() => {
  vi.restoreAllMocks()
  server.restore()
  vi.unstubAllGlobals()
})

async function grant() {
  await session.ready()
  return (await provider.request({ method: 'wallet_grantPermissions', params: [request()] })) as {
    sessionId: Hex
    signer: { type: string; publicKey: Hex }
  }
}

/** Answers the chain's reads with a session state whose ETH left for `friend` is `left()`; returns the methods read. */
function stubSessionState(left: () => bigint): string[] {
  const rpc: string[] = []
  const resultOf = (method: string) =>
    method === 'eth_call'
      ? encodeFunctionResult({
          abi: sessionKeyValidatorAbi,
          functionName: 'sessionState',
          result: {
            status: 1,
            feeRemaining: parseEther('0.01'),
            callPolicies: [{ valueRemaining: 0n, constraintRemaining: [100n] }],
            transferValueRemaining: [left()],
          },
        })
      : null
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: { body: string }) => {
      const body = JSON.parse(init.body) as { id: number; method: string } | { id: number; method: string }[]
      const answers = (Array.isArray(body) ? body : [body]).map(({ id, method }) => {
        rpc.push(method)
        return { jsonrpc: '2.0', id, result: resultOf(method) }
      })
      return new Response(JSON.stringify(Array.isArray(body) ? answers : answers[0]))
    }),
  )
  return rpc
}

describe('sessions through the provider', () => {
  test('behavior: the chain config names the contracts of a deployment of your own', async () => {
    // No `validators` option: the SessionKeyValidator comes from the provider's chain (as in sso-config.json).
    session = createSessionManager({ keyType: 'secp256k1', keyStore, storage, estimateAfterGrant: false })
    provider = createProvider({
      authServerUrl: authOrigin,
      chains: [{ ...chains[0], contracts: { sessionKeyValidator: validator } }],
      storage,
      session,
    })
    await provider.request({ method: 'eth_requestAccounts' })
    await session.ready()
    const opened = server.popups.length
    const aimedAtTheValidator = {
      ...request(),
      transferPolicies: [transferPolicy({ target: validator, maxValuePerUse: 1n, valueLimit: lifetime(1n) })],
    }
    const error = await rejectionOf(
      provider.request({ method: 'wallet_grantPermissions', params: [aimedAtTheValidator] }),
    )
    expectRpcError(error, InvalidSessionSpecError, -32602, /^Invalid session spec \(banned-target at /)
    expect(server.popups).toHaveLength(opened)
  })

  test('error: a chain with no known SessionKeyValidator names what to configure', async () => {
    session = createSessionManager({ keyType: 'secp256k1', keyStore, storage, estimateAfterGrant: false })
    provider = createProvider({
      authServerUrl: authOrigin,
      chains: [{ id: 7357, rpcUrl: chains[0].rpcUrl, bundlerUrl: chains[0].bundlerUrl }],
      storage,
      session,
    })
    await session.ready()
    const error = await rejectionOf(
      provider.request({ method: 'wallet_grantPermissions', params: [{ ...request(), chainId: '0x1cbd' }] }),
    )
    expect((error as Error).message).toMatch(
      /No SessionKeyValidator is known for chain 7357: give the chain's contracts/,
    )
  })

  test('behavior: connect with a session asks the popup for both; only the public key is sent', async () => {
    await session.ready()
    const accounts = await provider.request({
      method: 'eth_requestAccounts',
      params: [{ session: request() }],
    })
    expect(accounts).toEqual([account])
    expect(server.popups).toHaveLength(1)
    expect(server.requests.map((r) => r.method)).toEqual(['eth_requestAccounts', 'wallet_grantPermissions'])
    const [record] = session.list()
    expect(record?.account).toBe(account)
    const sent = server.requests[1]!
    if (sent.method !== 'wallet_grantPermissions') throw new Error('unexpected')
    expect(sent.params[0].spec.signer.length).toBe(42) // a secp256k1 address: the public part
    // The private key is in the key store and appears in no message and no storage.
    const stored = (await keyStore.get(record!.keyId)) as { privateKey: Hex }
    const everything = JSON.stringify([server.requests, [...storage.map.values()]])
    expect(everything).not.toContain(stored.privateKey.slice(2))
    expect(everything.toLowerCase()).toContain(sent.params[0].spec.signer.slice(2).toLowerCase())
  })

  test('behavior: grant returns the session; a reload keeps it; revoke forgets it and emits sessionRevoked', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    const granted = await grant()
    expect(granted).toMatchObject({
      account,
      chainId: 31337,
      signer: { type: 'secp256k1' },
      transactionHash: txHash,
    })
    expect(session.current(account, 31337)?.sessionId).toBe(granted.sessionId)

    const keyId = session.current(account, 31337)!.keyId
    setup('fail') // reload: a new manager and provider on the same storage and key store
    expect(session.current(account, 31337)?.sessionId).toBe(granted.sessionId)
    // The key survives the reload, and it is the key whose address the session names.
    const kept = (await keyStore.get(keyId)) as { kind: string; privateKey: Hex }
    expect(kept.kind).toBe('secp256k1')
    expect(privateKeyToAddress(kept.privateKey).toLowerCase()).toBe(granted.signer.publicKey.toLowerCase())
    const revoked: unknown[] = []
    provider.on('sessionRevoked', (info) => revoked.push(info))
    await provider.request({ method: 'wallet_revokePermissions', params: [] })
    const sent = server.requests.at(-1)!
    expect(sent).toMatchObject({ method: 'wallet_revokePermissions', params: [{ id: granted.sessionId }] })
    expect(revoked).toEqual([{ sessionId: granted.sessionId, account, chainId: 31337 }])
    expect(session.current(account, 31337)).toBeUndefined()
    expect(await keyStore.get(keyId)).toBeUndefined() // the session key is deleted
  })

  test('error: bad specs fail in the client before any popup opens', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    await session.ready()
    const opened = server.popups.length
    const bad: [Record<string, unknown>, string][] = [
      [{ ...request(), expiresAt: 1 }, 'expiry-in-past'],
      [{ ...request(), feeLimit: { type: 'unlimited' } }, 'unlimited-fee-limit'],
      [{ ...request(), signer: '0x0000000000000000000000000000000000000000' }, 'invalid-signer'],
      [
        {
          ...request(),
          transferPolicies: [
            transferPolicy({ target: account, maxValuePerUse: 1n, valueLimit: lifetime(1n) }),
          ],
        },
        'banned-target',
      ],
      [
        {
          ...request(),
          transferPolicies: [
            transferPolicy({ target: validator, maxValuePerUse: 1n, valueLimit: lifetime(1n) }),
          ],
        },
        'banned-target',
      ],
    ]
    for (const [params, rule] of bad) {
      const error = await rejectionOf(
        provider.request({ method: 'wallet_grantPermissions', params: [params] }),
      )
      expectRpcError(
        error,
        InvalidSessionSpecError,
        -32602,
        new RegExp(`^Invalid session spec \\(${rule} at `),
      )
      expect((error as InvalidSessionSpecError).rule).toBe(rule)
    }
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'wallet_grantPermissions', params: [{ expiresAt: 'soon' }] }),
      ),
      InvalidParamsError,
      -32602,
      'Invalid wallet_grantPermissions request.',
    )
    expect(server.popups.length).toBe(opened)
  })

  test('error: out of policy with onOutOfPolicy "fail" names the rule and opens no popup', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    await grant()
    const opened = server.popups.length
    const approve = encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [shop, 1n] })
    const cases: [Record<string, unknown>, string][] = [
      [{ from: account, to: token, data: approve }, 'no-call-policy'],
      [{ from: account, to: friend, value: '0x2386f26fc100000' }, 'value-per-use-exceeded'],
      [
        {
          from: account,
          to: token,
          data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [friend, 1n] }),
        },
        'constraint-violated',
      ],
      [{ from: account, to: shop, value: '0x1' }, 'no-transfer-policy'],
    ]
    for (const [tx, rule] of cases) {
      const error = await rejectionOf(provider.request({ method: 'eth_sendTransaction', params: [tx] }))
      expectRpcError(
        error,
        SessionPolicyError,
        4100,
        new RegExp(`^Outside the session policy \\(${rule}\\): `),
      )
      expect((error as SessionPolicyError).rule).toBe(rule)
    }
    expect(server.popups.length).toBe(opened)
  })

  test('behavior: out of policy with onOutOfPolicy "popup" opens the popup synchronously for a passkey approval', async () => {
    setup('popup')
    await provider.request({ method: 'eth_requestAccounts' })
    await grant()
    const before = server.requests.length
    const promise = provider.request({
      method: 'eth_sendTransaction',
      params: [{ from: account, to: shop, value: '0x1' }],
    })
    expect(server.popups.at(-1)?.closed).toBe(false) // opened inside request(), before any await
    expect(await promise).toBe(txHash)
    expect(server.requests.slice(before).map((r) => r.method)).toEqual(['eth_sendTransaction'])
  })

  test('behavior: past what the chain last said is left, the fallback popup opens synchronously, before any await', async () => {
    setup('popup')
    await provider.request({ method: 'eth_requestAccounts' })
    await grant()
    // The chain says 0.005 ETH is left of the 0.02 ETH to `friend`.
    const rpc = stubSessionState(() => parseEther('0.005'))
    expect((await session.getSessionState({ account, chainId: 31337 })).transferValueRemaining).toEqual([
      parseEther('0.005'),
    ])
    const open = vi.spyOn(window, 'open')
    const reads = rpc.length
    const promise = provider.request({
      method: 'eth_sendTransaction',
      params: [{ from: account, to: friend, value: toHex(parseEther('0.01')) }],
    })
    // In the spec (0.01 ETH per transfer), over what is left: the window is open as request() returns.
    expect(open).toHaveBeenCalledTimes(1)
    expect(server.popups.at(-1)?.closed).toBe(false)
    expect(await promise).toBe(txHash)
    expect(server.requests.at(-1)?.method).toBe('eth_sendTransaction')
    // Decided from what was known: nothing read, nothing sent with the session key.
    expect(rpc.slice(reads)).toEqual([])
  })

  test('behavior: sessionLimitNearlyUsed fires once per state change, not once per read', async () => {
    setup('popup')
    await provider.request({ method: 'eth_requestAccounts' })
    await grant()
    const events: { limit: string; remaining: bigint }[] = []
    provider.on('sessionLimitNearlyUsed', (e: { limit: string; remaining: bigint }) => events.push(e))
    let left = parseEther('0.001') // of 0.02 ETH: under the 10% threshold
    stubSessionState(() => left)
    const read = () => session.getSessionState({ account, chainId: 31337 })
    await read()
    await read()
    expect(events).toEqual([
      expect.objectContaining({ limit: 'transferPolicies[0].valueLimit', remaining: left }),
    ])
    left = parseEther('0.0005') // spent more: a new state, one more event
    await read()
    await read()
    expect(events.map((e) => e.remaining)).toEqual([parseEther('0.001'), parseEther('0.0005')])
    left = parseEther('0.02') // a fresh period: nothing to say; running low again fires again
    await read()
    left = parseEther('0.001')
    await read()
    expect(events.map((e) => e.remaining)).toEqual([
      parseEther('0.001'),
      parseEther('0.0005'),
      parseEther('0.001'),
    ])
  })

  test('error: session methods without a session manager are unsupported (4200)', async () => {
    const plain = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage })
    expectRpcError(
      await rejectionOf(plain.request({ method: 'wallet_grantPermissions', params: [request()] })),
      UnsupportedMethodError,
      4200,
      '"wallet_grantPermissions" needs sessions: createProvider({ session: createSessionManager() }) from @sso/client/session.',
    )
  })

  test('error: a grant, connect-with-session or revoke naming another chain or account is refused before the popup', async () => {
    await session.ready()
    const other: Address = '0x9999999999999999999999999999999999999999'
    const onChain = "Conflicting chains in the request: the provider's chain (eth_chainId) is 31337 but"
    // Not connected yet: connect + grant in one popup, for the chain the provider is on.
    expectRpcError(
      await rejectionOf(
        provider.request({
          method: 'eth_requestAccounts',
          params: [{ session: { ...request(), chainId: '0x1' } }],
        }),
      ),
      ConflictingParamsError,
      -32602,
      `${onChain} params[0].session.chainId is 0x1 (1).`,
    )
    expectRpcError(
      await rejectionOf(
        provider.request({
          method: 'eth_requestAccounts',
          params: [{ session: { ...request(), address: account } }],
        }),
      ),
      UnauthorizedError,
      4100,
      'Not connected: call eth_requestAccounts first (from a click handler).',
    )
    expect(server.popups).toHaveLength(0)

    await provider.request({ method: 'eth_requestAccounts' })
    const opened = server.popups.length
    for (const [stated, shown] of [
      ['0x7a6a', '0x7a6a (31338)'],
      [1, '1'],
      ['mainnet', 'mainnet'],
    ] as const)
      expectRpcError(
        await rejectionOf(
          provider.request({
            method: 'wallet_grantPermissions',
            params: [{ ...request(), chainId: stated }],
          }),
        ),
        ConflictingParamsError,
        -32602,
        `${onChain} params[0].chainId is ${shown}.`,
      )
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'wallet_grantPermissions', params: [{ ...request(), address: other }] }),
      ),
      UnauthorizedError,
      4100,
      `The request is for another account: params[0].address is ${other} but the connected SSO account (eth_accounts) is ${account}.`,
    )
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'wallet_revokePermissions', params: [{ all: true, chainId: '0x7a6a' }] }),
      ),
      ConflictingParamsError,
      -32602,
      `${onChain} params[0].chainId is 0x7a6a (31338).`,
    )
    expect(server.popups.length).toBe(opened)

    // The same chain and account stated again agree: the grant goes to the popup for that chain.
    await provider.request({
      method: 'wallet_grantPermissions',
      params: [{ ...request(), chainId: '0x7a69', address: account }],
    })
    expect(server.requests.at(-1)).toMatchObject({
      method: 'wallet_grantPermissions',
      chainId: 31337,
      params: [{ address: account }],
    })
  })
})
