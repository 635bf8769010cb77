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
import { sso } from './wagmi.js'

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
})
