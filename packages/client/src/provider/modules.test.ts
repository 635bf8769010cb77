/**
 * The module methods of the provider: install / uninstall go to the popup with the connected account, bad params
 * are refused before the popup opens (docs/modules.md). The chain reads are covered by Modules.chain.test.ts.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { InvalidParamsError, UnauthorizedError } from '../Errors.js'
import { expectRpcError, rejectionOf } from '../internal/expectError.js'
import { authOrigin, installFakeAuthServer } from '../internal/fakeAuthServer.js'
import { getModules, installModule, isModuleInstalled, uninstallModule } from '../Modules.js'
import { createProvider, type Provider } from '../Provider.js'

const address = '0x1111111111111111111111111111111111111111'
const module = '0x3333333333333333333333333333333333333333'
const txHash = `0x${'aa'.repeat(32)}` as const
const chains = [{ id: 31337, rpcUrl: 'http://127.0.0.1:8545', bundlerUrl: 'http://127.0.0.1:4337' }] as const

let server: ReturnType<typeof installFakeAuthServer>
let provider: Provider
beforeEach(() => {
  server = installFakeAuthServer((request) => {
    if (request.method === 'eth_requestAccounts') return { result: { accounts: [address], chainId: 31337 } }
    return { result: { transactionHash: txHash } }
  })
  const map = new Map<string, string>()
  const storage = {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  }
  provider = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage })
})
afterEach(() => {
  server.restore()
  vi.unstubAllGlobals()
})

describe('module methods', () => {
  test('behavior: install and uninstall go through the popup, for the connected account', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    const before = server.popups.length
    const installed = installModule(provider, { type: 'executor', address: module, data: '0x1234' })
    expect(server.popups).toHaveLength(before + 1) // opened synchronously: inside the click's gesture
    expect(await installed).toEqual({ transactionHash: txHash })
    expect(await uninstallModule(provider, { type: 'executor', address: module })).toEqual({
      transactionHash: txHash,
    })
    expect(server.requests.map((r) => [r.method, r.params, r.chainId])).toEqual([
      ['eth_requestAccounts', [], 31337],
      ['wallet_installModule', [{ type: 'executor', address: module, data: '0x1234', from: address }], 31337],
      ['wallet_uninstallModule', [{ type: 'executor', address: module, from: address }], 31337],
    ])
  })

  test('error: hooks, a fallback without selector, odd data and bad shapes are refused before the popup', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    const opened = server.popups.length
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'wallet_installModule', params: [{ type: 'hook', address: module }] }),
      ),
      InvalidParamsError,
      -32602,
      'params[0].type is "hook": SSO accounts do not support ERC-7579 hooks (type 4), only validators, executors and fallback handlers.',
    )
    expectRpcError(
      await rejectionOf(installModule(provider, { type: 'fallback', address: module, data: '0x12' })),
      InvalidParamsError,
      -32602,
      'params[0].data must start with the 4-byte selector the fallback handler handles.',
    )
    expectRpcError(
      await rejectionOf(installModule(provider, { type: 'executor', address: module, data: '0x123' })),
      InvalidParamsError,
      -32602,
      'params[0].data is not whole bytes (odd number of hex digits).',
    )
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'wallet_uninstallModule', params: [{ type: 'plugin', address: module }] }),
      ),
      InvalidParamsError,
      -32602,
      'Invalid params for "wallet_uninstallModule".',
    )
    expectRpcError(
      await rejectionOf(
        provider.request({
          method: 'wallet_installModule',
          params: [{ type: 'executor', address: '0x1234' }],
        }),
      ),
      InvalidParamsError,
      -32602,
      'Invalid params for "wallet_installModule".',
    )
    expect(server.popups.length).toBe(opened)
    expect(server.requests.map((r) => r.method)).toEqual(['eth_requestAccounts'])
  })

  test('error: another account or no account -> 4100, nothing opens', async () => {
    expectRpcError(
      await rejectionOf(installModule(provider, { type: 'executor', address: module })),
      UnauthorizedError,
      4100,
      /connect/i,
    )
    await provider.request({ method: 'eth_requestAccounts' })
    expectRpcError(
      await rejectionOf(
        provider.request({
          method: 'wallet_installModule',
          params: [{ type: 'executor', address: module, from: '0x2222222222222222222222222222222222222222' }],
        }),
      ),
      UnauthorizedError,
      4100,
      /params\[0\]\.from/,
    )
    expect(server.requests.map((r) => r.method)).toEqual(['eth_requestAccounts'])
  })

  test('behavior: reads go to the chain RPC, not the popup', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    const calls: string[] = []
    // The node: no code at the account, so no modules.
    vi.stubGlobal('fetch', async (_url: string, init: { body: string }) => {
      const { id, method } = JSON.parse(init.body) as { id: number; method: string }
      calls.push(method)
      return new Response(JSON.stringify({ jsonrpc: '2.0', id, result: '0x' }))
    })
    expect(await getModules(provider)).toEqual([])
    expect(await isModuleInstalled(provider, { type: 'executor', address: module })).toBe(false)
    expect(calls).toEqual(['eth_getCode', 'eth_getCode'])
    expect(server.requests.map((r) => r.method)).toEqual(['eth_requestAccounts'])
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'wallet_isModuleInstalled', params: [{ type: 'executor' }] }),
      ),
      InvalidParamsError,
      -32602,
      'Invalid params for "wallet_isModuleInstalled".',
    )
  })
})
