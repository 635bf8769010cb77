/**
 * ERC-7715 through the provider as dapps call it: MetaMask's Smart Accounts Kit `erc7715ProviderActions` (current
 * names) and viem's experimental `grantPermissions` (the older `wallet_grantPermissions`), against the real popup
 * messenger of a scripted auth server page.
 */
import { erc7715ProviderActions } from '@metamask/smart-accounts-kit/actions'
import { createWalletClient, custom, type Hex } from 'viem'
import { grantPermissions } from 'viem/experimental'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { UnsupportedPermissionError } from '../Erc7715.js'
import { InvalidParamsError, UnsupportedMethodError } from '../Errors.js'
import { expectRpcError, rejectionOf } from '../internal/expectError.js'
import { authOrigin, type FakeHandler, installFakeAuthServer } from '../internal/fakeAuthServer.js'
import { account, friend, token, validator } from '../internal/sessionSpecFixture.js'
import { createProvider, type Provider } from '../Provider.js'
import { createSessionManager, type SessionManager } from '../Session.js'
import { createMemoryKeyStore } from '../SessionSigner.js'
import { sessionSpecFromWire } from '../SessionSpec.js'
import { sessionId } from '../SessionSpecEncoding.js'

// The kit reports its calls to an analytics endpoint unless told not to.
vi.stubEnv('DO_NOT_TRACK', '1')

const txHash: Hex = `0x${'aa'.repeat(32)}`
const chains = [{ id: 31337, rpcUrl: 'http://127.0.0.1:8545', bundlerUrl: 'http://127.0.0.1:4337' }] as const
const sessionKey = '0x6666666666666666666666666666666666666666' as const
const expiry = () => Math.floor(Date.now() / 1000) + 3600

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
    default:
      return { error: { code: 4200, message: 'no' } }
  }
}

function memoryStorage() {
  const map = new Map<string, string>()
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  }
}

let server: ReturnType<typeof installFakeAuthServer>
let provider: Provider
let session: SessionManager

beforeEach(async () => {
  server = installFakeAuthServer(answers)
  const storage = memoryStorage()
  session = createSessionManager({
    keyType: 'secp256k1',
    keyStore: createMemoryKeyStore(),
    storage,
    validators: { 31337: validator },
    estimateAfterGrant: false,
  })
  provider = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage, session })
  await session.ready()
  await provider.request({ method: 'eth_requestAccounts' })
})
afterEach(() => {
  server.restore()
  vi.unstubAllGlobals()
})

const client = () => createWalletClient({ transport: custom(provider) }).extend(erc7715ProviderActions())

describe('ERC-7715 with the Smart Accounts Kit', () => {
  test('behavior: requestExecutionPermissions grants an erc20-token-periodic to `to` through the session screen', async () => {
    const timestamp = expiry()
    const [granted] = await client().requestExecutionPermissions([
      {
        chainId: 31337,
        to: sessionKey,
        expiry: timestamp,
        permission: {
          type: 'erc20-token-periodic',
          data: {
            tokenAddress: token,
            periodAmount: 100n,
            periodDuration: 3600,
            justification: 'Weekly tips',
          },
          isAdjustmentAllowed: false,
        },
      },
    ])
    // The popup got a session spec (its approval screen), signed by `to`.
    const popupRequest = server.requests.find((r) => r.method === 'wallet_grantPermissions')
    if (popupRequest?.method !== 'wallet_grantPermissions') throw new Error('no grant reached the popup')
    const spec = sessionSpecFromWire(popupRequest.params[0].spec)
    expect(spec.signer).toBe(sessionKey)
    expect(spec.expiresAt).toBe(timestamp)
    expect(spec.callPolicies[0]?.constraints[0]?.limit).toEqual({
      type: 'allowance',
      limit: 100n,
      period: 3600,
    })
    // The kit's view of the answer: the request, plus the context (the session id) and where it is enforced.
    expect(granted).toEqual({
      chainId: 31337,
      from: account,
      to: sessionKey,
      permission: {
        type: 'erc20-token-periodic',
        data: {
          tokenAddress: token,
          periodAmount: 100n,
          periodDuration: 3600,
          justification: 'Weekly tips',
        },
        isAdjustmentAllowed: false,
      },
      rules: [{ type: 'expiry', data: { timestamp } }],
      context: sessionId(spec),
      dependencies: [],
      delegationManager: validator,
    })
    // Granted permissions are listed until revoked.
    expect(await client().getGrantedExecutionPermissions()).toEqual([granted])
    await provider.request({
      method: 'wallet_revokeExecutionPermission',
      params: [{ permissionContext: granted?.context }],
    })
    const revoke = server.requests.find((r) => r.method === 'wallet_revokePermissions')
    expect(revoke?.params).toEqual([{ id: sessionId(spec) }])
    expect(await client().getGrantedExecutionPermissions()).toEqual([])
  })

  test('behavior: without `to` the session key is this dapp’s (the provider sends with it), a stream as a periodic allowance', async () => {
    const now = Math.floor(Date.now() / 1000)
    const result = (await provider.request({
      method: 'wallet_requestExecutionPermissions',
      params: [
        {
          chainId: '0x7a69',
          permission: {
            type: 'native-token-stream',
            data: { amountPerSecond: '0x1', initialAmount: '0xe10', startTime: now },
            isAdjustmentAllowed: true,
          },
          rules: [
            { type: 'expiry', data: { timestamp: now + 3600 } },
            { type: 'payee', data: { addresses: [friend] } },
          ],
        },
      ],
    })) as { permission: unknown; context: Hex; to?: unknown }[]
    expect(result[0]?.to).toBeUndefined()
    expect(result[0]?.permission).toEqual({
      type: 'native-token-periodic',
      data: { periodAmount: '0x708', periodDuration: 1800 },
      isAdjustmentAllowed: true,
    })
    expect(session.has(account, 31337)).toBe(true)
    expect(session.list()[0]?.sessionId).toBe(result[0]?.context)
  })

  test('behavior: getSupportedExecutionPermissions lists each type with its chains and rules', async () => {
    const supported = await client().getSupportedExecutionPermissions()
    expect(Object.keys(supported).sort()).toEqual([
      'erc20-token-allowance',
      'erc20-token-periodic',
      'erc20-token-stream',
      'native-token-allowance',
      'native-token-periodic',
      'native-token-stream',
      'sso-session',
    ])
    expect(supported['erc20-token-periodic']).toEqual({ chainIds: [31337], ruleTypes: ['expiry', 'payee'] })
  })

  test('error: a permission the policy cannot hold is refused before any popup opens', async () => {
    const opened = server.popups.length
    const error = await rejectionOf(
      client().requestExecutionPermissions([
        {
          chainId: 31337,
          to: sessionKey,
          expiry: expiry(),
          permission: {
            type: 'native-token-periodic',
            data: { periodAmount: 1n, periodDuration: 60 },
            isAdjustmentAllowed: false,
          },
        },
      ]),
    )
    expect((error as { cause?: unknown }).cause).toBeInstanceOf(UnsupportedPermissionError)
    expect((error as { details?: string }).details).toMatch(/needs a payee rule with one address/)
    expect(server.popups.length).toBe(opened)
  })

  test('error: ERC-7715 methods without a session manager are unsupported (4200)', async () => {
    const bare = createProvider({
      authServerUrl: authOrigin,
      chains: [...chains] as never,
      storage: memoryStorage(),
    })
    expectRpcError(
      await rejectionOf(bare.request({ method: 'wallet_getSupportedExecutionPermissions', params: [] })),
      UnsupportedMethodError,
      4200,
      /"wallet_getSupportedExecutionPermissions" needs sessions/,
    )
  })
})

describe('EIP-5792 with sessions', () => {
  test('behavior: wallet_getCapabilities reports, per chain, atomic, paymasterService and the ERC-7715 permissions', async () => {
    const capabilities = await createWalletClient({ transport: custom(provider) }).getCapabilities({
      account,
    })
    expect(capabilities).toEqual({
      31337: {
        atomic: { status: 'supported' },
        paymasterService: { supported: true },
        permissions: {
          supported: true,
          permissionTypes: [
            'native-token-allowance',
            'native-token-periodic',
            'native-token-stream',
            'erc20-token-allowance',
            'erc20-token-periodic',
            'erc20-token-stream',
            'sso-session',
          ],
          ruleTypes: ['expiry', 'payee'],
        },
      },
    })
  })

  test('behavior: without a session, calls naming a paymaster service go to the popup, which honours it; a bad one is refused', async () => {
    expect(session.has(account, 31337)).toBe(false)
    const paymasterService = { url: 'http://127.0.0.1:3000/paymaster', context: { policy: 'demo' } }
    const send = (capabilities: Record<string, unknown>) =>
      provider.request({
        method: 'wallet_sendCalls',
        params: [
          {
            version: '2.0.0',
            chainId: '0x7a69',
            atomicRequired: true,
            calls: [{ to: friend, value: '0x1' }],
            capabilities,
          },
        ],
      })
    const sending = rejectionOf(send({ paymasterService }))
    // The fake popup does not answer wallet_sendCalls: the request reaching it is what matters.
    await expect.poll(() => server.requests.some((r) => r.method === 'wallet_sendCalls')).toBe(true)
    const calls = server.requests.find((r) => r.method === 'wallet_sendCalls')
    expect(calls?.params[0]).toMatchObject({ capabilities: { paymasterService } })
    expect((await sending) as { code?: number }).toMatchObject({ code: 4200 })
    const opened = server.popups.length
    for (const bad of [{ url: 'javascript:alert(1)' }, { url: 'http://127.0.0.1:3000', context: 'x' }, {}])
      expectRpcError(
        await rejectionOf(send({ paymasterService: bad })),
        InvalidParamsError,
        -32602,
        /^capabilities\.paymasterService\./,
      )
    expect(server.popups.length).toBe(opened)
  })
})

describe('the older wallet_grantPermissions (deprecated)', () => {
  test('behavior: viem grantPermissions (draft shape) gets a session and its permissionsContext', async () => {
    const walletClient = createWalletClient({ transport: custom(provider) })
    const timestamp = expiry()
    const result = await grantPermissions(walletClient, {
      expiry: timestamp,
      signer: { type: 'account', data: { id: sessionKey } },
      permissions: [
        {
          type: 'erc20-token-transfer',
          data: { address: token, ticker: 'TKN' },
          policies: [{ type: 'token-allowance', data: { allowance: 500n } }],
          required: true,
        },
      ],
    })
    const popupRequest = server.requests.find((r) => r.method === 'wallet_grantPermissions')
    if (popupRequest?.method !== 'wallet_grantPermissions') throw new Error('no grant reached the popup')
    const spec = sessionSpecFromWire(popupRequest.params[0].spec)
    expect(spec.signer).toBe(sessionKey)
    expect(spec.callPolicies[0]?.constraints[0]?.limit).toEqual({ type: 'lifetime', limit: 500n })
    expect(result.expiry).toBe(timestamp)
    expect(result.permissionsContext).toBe(sessionId(spec))
    expect(result.grantedPermissions[0]?.policies[0]).toEqual({
      type: 'token-allowance',
      data: { allowance: 500n },
    })
  })
})
