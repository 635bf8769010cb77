import {
  connect,
  createConfig,
  disconnect,
  getAccount,
  http,
  reconnect,
  signMessage,
  switchChain,
} from '@wagmi/core'
import { defineChain } from 'viem'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { authOrigin, installFakeAuthServer } from './internal/fakeAuthServer.js'
import { friend, validator } from './internal/sessionSpecFixture.js'
import { createSessionManager } from './Session.js'
import { createMemoryKeyStore } from './SessionSigner.js'
import { lifetime, sessionSpecFromWire, transferPolicy } from './SessionSpec.js'
import { sessionId } from './SessionSpecEncoding.js'
import { sso } from './wagmi.js'

const txHash = `0x${'aa'.repeat(32)}` as const

const address = '0x1111111111111111111111111111111111111111'
const chain = (id: number) =>
  defineChain({
    id,
    name: `Devnet ${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [`http://127.0.0.1:${id === 31337 ? 8545 : 8546}`] } },
  })
const chains = [chain(31337), chain(31338)] as const

let server: ReturnType<typeof installFakeAuthServer>
beforeEach(() => {
  localStorage.clear()
  server = installFakeAuthServer((request) => {
    if (request.method === 'eth_requestAccounts') return { result: { accounts: [address], chainId: 31337 } }
    if (request.method === 'personal_sign') return { result: '0x5151' }
    if (request.method === 'wallet_revokePermissions') return { result: { transactionHash: txHash } }
    if (request.method === 'wallet_grantPermissions') {
      const spec = sessionSpecFromWire(request.params[0].spec)
      return {
        result: { sessionId: sessionId(spec), account: address, chainId: 31337, transactionHash: txHash },
      }
    }
    return { error: new Error('unexpected') }
  })
})
afterEach(() => server.restore())

function makeConfig() {
  return createConfig({
    chains,
    connectors: [
      sso({
        authServerUrl: authOrigin,
        bundlerUrls: { 31337: 'http://127.0.0.1:4337', 31338: 'http://127.0.0.1:4338' },
      }),
    ],
    transports: { 31337: http(), 31338: http() },
  })
}

describe('wagmi connector', () => {
  test('behavior: connect, sign, switch chain, reconnect after reload, disconnect', async () => {
    const config = makeConfig()
    const connector = config.connectors[0]!
    const connecting = connect(config, { connector })
    expect(server.popups).toHaveLength(1) // popup opened synchronously inside connect()
    const result = await connecting
    expect(result.accounts).toEqual([address])
    expect(result.chainId).toBe(31337)
    expect(getAccount(config).address).toBe(address)
    expect(await signMessage(config, { message: 'hi' })).toBe('0x5151')
    await switchChain(config, { chainId: 31338 })
    expect(getAccount(config).chainId).toBe(31338)

    const reloaded = makeConfig()
    await reconnect(reloaded)
    expect(getAccount(reloaded).address).toBe(address)
    expect(getAccount(reloaded).chainId).toBe(31338)

    await disconnect(reloaded)
    expect(getAccount(reloaded).status).toBe('disconnected')
  })

  test('error: a chain without a bundler URL is a clear error', async () => {
    const config = createConfig({
      chains,
      connectors: [sso({ authServerUrl: authOrigin, bundlerUrls: { 31337: 'http://127.0.0.1:4337' } })],
      transports: { 31337: http(), 31338: http() },
    })
    await expect(connect(config, { connector: config.connectors[0]! })).rejects.toThrow(
      /bundler URL for chain 31338/,
    )
  })

  test('behavior: a session asked at connect comes in the same popup; the connector exposes it and its events', async () => {
    const session = createSessionManager({
      keyType: 'secp256k1',
      keyStore: createMemoryKeyStore(),
      validators: { 31337: validator },
      estimateAfterGrant: false,
    })
    await session.ready()
    const expiresAt = Math.floor(Date.now() / 1000) + 3600
    const config = createConfig({
      chains,
      connectors: [
        sso({
          authServerUrl: authOrigin,
          bundlerUrls: { 31337: 'http://127.0.0.1:4337', 31338: 'http://127.0.0.1:4338' },
          session,
          connectSession: () => ({
            expiresAt,
            feeLimit: lifetime(10n ** 15n),
            transferPolicies: [
              transferPolicy({ target: friend, maxValuePerUse: 100n, valueLimit: lifetime(500n) }),
            ],
          }),
        }),
      ],
      transports: { 31337: http(), 31338: http() },
    })
    const connector = config.connectors[0]!
    const messages: unknown[] = []
    connector.emitter.on('message', (message) => messages.push(message))
    expect(await connector.getSession()).toBeUndefined()
    const connecting = connect(config, { connector })
    expect(server.popups).toHaveLength(1)
    expect((await connecting).accounts).toEqual([address])
    // One popup got both: the connect and the session (with the session key's public key only).
    expect(server.requests.map((r) => r.method)).toEqual(['eth_requestAccounts', 'wallet_grantPermissions'])
    const granted = server.requests[1]
    if (granted?.method !== 'wallet_grantPermissions') throw new Error('no grant')
    const spec = sessionSpecFromWire(granted.params[0].spec)
    expect(spec.transferPolicies).toEqual([
      { target: friend, maxValuePerUse: 100n, valueLimit: lifetime(500n) },
    ])
    expect(await connector.getSession()).toEqual({
      sessionId: sessionId(spec),
      account: address,
      chainId: 31337,
      expiresAt,
    })
    // Session events reach wagmi as messages: revoke it (a popup request) and the connector forgets it.
    const provider = await connector.getProvider()
    await provider.request({ method: 'wallet_revokePermissions', params: [] })
    expect(messages.filter((m) => (m as { type: string }).type !== 'connecting')).toEqual([
      {
        uid: connector.uid,
        type: 'sessionRevoked',
        data: { sessionId: sessionId(spec), account: address, chainId: 31337 },
      },
    ])
    expect(await connector.getSession()).toBeUndefined()
    // `session: null` connects without asking for one.
    await disconnect(config)
    await connect(config, { connector, session: null } as never)
    expect(server.requests.map((r) => r.method).slice(3)).toEqual(['eth_requestAccounts'])
  })
})
