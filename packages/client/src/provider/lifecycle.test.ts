/**
 * The life of a popup request as a dapp sees it (docs/architecture.md, section 4): the window opens inside the
 * gesture on every path, every request is answered exactly once, and a request sent before the popup went away
 * still reaches the dapp.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import {
  DisconnectedError,
  InternalError,
  PopupBlockedError,
  TransactionRejectedError,
  UnauthorizedError,
} from '../Errors.js'
import { expectRpcError, rejectionOf } from '../internal/expectError.js'
import { authOrigin, type FakeHandler, installFakeAuthServer } from '../internal/fakeAuthServer.js'
import { tick } from '../internal/fakeWindows.js'
import { createProvider, type Provider } from '../Provider.js'
import type { SessionHandler } from '../SessionHandler.js'
import { droppedAfter, pendingAtMost } from './callsStatus.js'

const address = '0x1111111111111111111111111111111111111111'
const other = '0x2222222222222222222222222222222222222222' as const
const txHash = `0x${'aa'.repeat(32)}` as const
const opHash = `0x${'bb'.repeat(32)}` as const
const sessionId = `0x${'cc'.repeat(32)}` as const
const chain = { id: 31337, rpcUrl: 'http://127.0.0.1:8545', bundlerUrl: 'http://127.0.0.1:4337' }

const connected: FakeHandler = (request) =>
  request.method === 'eth_requestAccounts'
    ? { result: { accounts: [address], chainId: 31337 } }
    : { error: new InternalError('unexpected') }

// A session manager stand-in: its prepare steps are synchronous, as the provider requires.
const session: SessionHandler = {
  attach() {},
  prepareGrant: () => ({
    params: [{ spec: spec() }],
    finish: async (result) => result,
  }),
  prepareRevoke: () => ({ params: [{ all: true }], finish: async (result) => result }),
  has: () => false,
  validatorOf: () => other,
  permissionFeeLimit: 1n,
  send: (_args, fallback) => ({ popup: fallback() }),
  forget() {},
}
function spec() {
  return {
    signer: `0x${'11'.repeat(64)}` as const,
    expiresAt: 2_000_000_000,
    feeLimit: { type: 'lifetime' as const, limit: '0x1' as const },
    callPolicies: [],
    transferPolicies: [
      { target: other, maxValuePerUse: '0x1' as const, valueLimit: { type: 'unlimited' as const } },
    ],
  }
}

type Bundler = { receipt?: unknown; op?: unknown }
function stubBundler(bundler: Bundler) {
  const calls: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: { body: string }) => {
      const { id, method } = JSON.parse(init.body)
      calls.push(method)
      const result =
        method === 'eth_getUserOperationReceipt'
          ? (bundler.receipt ?? null)
          : method === 'eth_getUserOperationByHash'
            ? (bundler.op ?? null)
            : null
      return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }))
    }),
  )
  return calls
}
const receipt = (success: boolean) => ({
  success,
  reason: success ? undefined : 'out of luck',
  logs: [],
  receipt: { blockHash: txHash, blockNumber: '0x5', gasUsed: '0x200', transactionHash: txHash },
})

let server: ReturnType<typeof installFakeAuthServer>
let provider: Provider
function setup(handler: FakeHandler) {
  server = installFakeAuthServer(handler)
  const map = new Map<string, string>()
  const storage = {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  }
  provider = createProvider({ authServerUrl: authOrigin, chains: [chain], storage, session })
  return map
}
beforeEach(() => setup(connected))
afterEach(() => {
  // Providers of earlier tests stay alive: their account channels must not be taken for this test's.
  for (const frame of document.querySelectorAll('iframe')) frame.remove()
  server.restore()
  vi.unstubAllGlobals()
})

describe('the popup opens inside the gesture', () => {
  // Every method that may need the popup, with valid params, for a connected dapp.
  const popupCalls: [string, unknown][] = [
    ['eth_sendTransaction', [{ to: other, value: '0x1' }]],
    [
      'wallet_sendCalls',
      [{ version: '2.0.0', chainId: '0x7a69', atomicRequired: true, calls: [{ to: other }] }],
    ],
    ['wallet_showCallsStatus', [opHash]],
    ['personal_sign', ['0x68', address]],
    ['eth_signTypedData_v4', [address, { types: {}, primaryType: 'A', message: {} }]],
    ['wallet_grantPermissions', [{}]],
    ['wallet_revokePermissions', [{ all: true }]],
  ]

  test('behavior: window.open is called synchronously for every popup method', async () => {
    // Disconnected: connect, and connect with a session.
    for (const params of [undefined, [{ session: {} }]]) {
      const before = server.popups.length
      void provider.request({ method: 'eth_requestAccounts', params: params as never }).catch(() => null) // check-tests: allow answered below by closing
      expect(server.popups.length, JSON.stringify(params)).toBe(before + 1)
      server.popups.at(-1)?.close()
      await tick(300)
    }
    await provider.request({ method: 'eth_requestAccounts' })
    for (const [method, params] of popupCalls) {
      const opened = vi.spyOn(window, 'open')
      const promise = provider.request({ method, params: params as never })
      // No await between the call and window.open: Safari refuses a popup opened after one.
      expect(opened, method).toHaveBeenCalledTimes(1)
      opened.mockRestore()
      server.popups.at(-1)?.close()
      await rejectionOf(promise)
    }
  })

  test('error: a blocked popup is a typed error that says what to do, on every popup method', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    server.block()
    for (const [method, params] of popupCalls) {
      const error = await rejectionOf(provider.request({ method, params: params as never }))
      expectRpcError(error, PopupBlockedError, -32603, 'The SSO popup was blocked by the browser.')
      expect((error as PopupBlockedError).details).toMatch(
        /from a user gesture \(a click handler\), before any `await`/,
      )
    }
  })
})

describe('each request is answered exactly once', () => {
  test('behavior: a second connect while the popup is open joins the first (one screen, one answer each)', async () => {
    const a = provider.request({ method: 'eth_requestAccounts' })
    const b = provider.request({ method: 'eth_requestAccounts' })
    expect(await Promise.all([a, b])).toEqual([[address], [address]])
    expect(server.requests.map((r) => r.method)).toEqual(['eth_requestAccounts'])
    expect(server.popups).toHaveLength(1)
  })

  test('behavior: two requests at once go to one popup and each gets its own answer', async () => {
    server.restore()
    setup((request) =>
      request.method === 'eth_requestAccounts'
        ? { result: { accounts: [address], chainId: 31337 } }
        : { result: request.method === 'personal_sign' ? '0x5151' : '0x7171' },
    )
    await provider.request({ method: 'eth_requestAccounts' })
    const answers: unknown[] = []
    const a = provider
      .request({ method: 'personal_sign', params: ['0x68', address] })
      .then((r) => answers.push(r))
    const b = provider
      .request({
        method: 'eth_signTypedData_v4',
        params: [address, { types: {}, primaryType: 'A', message: {} }],
      })
      .then((r) => answers.push(r))
    await Promise.all([a, b])
    await tick(50)
    expect(answers.sort()).toEqual(['0x5151', '0x7171'])
    expect(server.popups).toHaveLength(2) // the connect popup, then one for both signatures
  })
})

describe('a request sent before the popup went away reaches the dapp', () => {
  function submitting(method: string, extra: { sessionId?: `0x${string}` } = {}): FakeHandler {
    return (request, messenger) => {
      if (request.method === 'eth_requestAccounts') return { result: { accounts: [address], chainId: 31337 } }
      if (request.method === method)
        messenger.submitted(request, { userOpHash: opHash, account: address, ...extra })
      return 'hang'
    }
  }
  async function approveThenClose(method: string, params: unknown, extra = {}) {
    server.restore()
    setup(submitting(method, extra))
    await provider.request({ method: 'eth_requestAccounts' })
    const promise = provider.request({ method, params: params as never })
    await tick(20)
    server.popups.at(-1)?.close()
    return promise
  }

  test('behavior: eth_sendTransaction answers the transaction hash from the bundler receipt', async () => {
    const calls = stubBundler({ receipt: receipt(true) })
    expect(await approveThenClose('eth_sendTransaction', [{ to: other, value: '0x1' }])).toBe(txHash)
    expect(calls).toEqual(['eth_getUserOperationReceipt'])
  })

  test('behavior: wallet_sendCalls answers the userOp hash as its id, and its status is readable', async () => {
    stubBundler({ receipt: receipt(true) })
    const batch = { version: '2.0.0', chainId: '0x7a69', atomicRequired: true, calls: [{ to: other }] }
    expect(await approveThenClose('wallet_sendCalls', [batch])).toEqual({ id: opHash })
    const status = await provider.request({ method: 'wallet_getCallsStatus', params: [opHash] })
    expect(status).toMatchObject({ id: opHash, status: 200 })
  })

  test('behavior: wallet_grantPermissions and wallet_revokePermissions finish from the receipt', async () => {
    stubBundler({ receipt: receipt(true) })
    expect(await approveThenClose('wallet_grantPermissions', [{}], { sessionId })).toEqual({
      sessionId,
      account: address,
      chainId: 31337,
      transactionHash: txHash,
    })
    expect(await approveThenClose('wallet_revokePermissions', [{ all: true }])).toEqual({
      transactionHash: txHash,
    })
  })

  test('error: a sent transaction that reverted is -32003, not 4001', async () => {
    stubBundler({ receipt: receipt(false) })
    expectRpcError(
      await rejectionOf(approveThenClose('eth_sendTransaction', [{ to: other }])),
      TransactionRejectedError,
      -32003,
      `The user operation ${opHash} reverted on chain (out of luck).`,
    )
  })
})

describe('wallet_getCallsStatus is never pending forever', () => {
  const id = 'batch-1'
  function sentAgo(map: Map<string, string>, ms: number) {
    map.set('sso.calls', JSON.stringify({ [id]: { chainId: 31337, hash: opHash, sentAt: Date.now() - ms } }))
  }
  const statusOf = async () =>
    ((await provider.request({ method: 'wallet_getCallsStatus', params: [id] })) as { status: number }).status

  test('behavior: without a receipt it is pending (100) while the bundler may still include it', async () => {
    const map = setup(connected)
    stubBundler({})
    sentAgo(map, 1_000)
    expect(await statusOf()).toBe(100)
    sentAgo(map, droppedAfter + 1_000)
    stubBundler({ op: { userOperation: {} } })
    expect(await statusOf()).toBe(100)
  })

  test('behavior: dropped by the bundler (unknown to it, no receipt) after the bounded wait -> 400', async () => {
    const map = setup(connected)
    const calls = stubBundler({})
    sentAgo(map, droppedAfter + 1_000)
    expect(await statusOf()).toBe(400)
    expect(calls).toEqual(['eth_getUserOperationReceipt', 'eth_getUserOperationByHash'])
  })

  test('behavior: no receipt at all after the longest wait -> 400 even if the bundler lists it', async () => {
    const map = setup(connected)
    stubBundler({ op: { userOperation: {} } })
    sentAgo(map, pendingAtMost + 1_000)
    expect(await statusOf()).toBe(400)
  })

  test('behavior: reverted on chain -> 500', async () => {
    const map = setup(connected)
    stubBundler({ receipt: receipt(false) })
    sentAgo(map, 1_000)
    expect(await statusOf()).toBe(500)
  })
})

describe('a log-out or account switch in the auth server reaches the dapp', () => {
  const channel = () => document.querySelector<HTMLIFrameElement>('iframe[title="SSO account channel"]')
  function fromChannel(data: unknown, origin = authOrigin, source: unknown = channel()?.contentWindow) {
    window.dispatchEvent(new MessageEvent('message', { data, origin, source: source as never }))
  }
  function listen() {
    const events: unknown[] = []
    provider.on('accountsChanged', (accounts) => events.push(['accountsChanged', accounts]))
    provider.on('disconnect', (error) => events.push(['disconnect', error.code, error.shortMessage]))
    return events
  }

  test('behavior: the channel is embedded while connected, with the dapp origin, and removed on disconnect', async () => {
    expect(channel()).toBeNull()
    await provider.request({ method: 'eth_requestAccounts' })
    expect(channel()?.getAttribute('src')).toBe(
      `${authOrigin}/channel.html?origin=http%3A%2F%2Flocalhost%3A3001`,
    )
    expect(channel()?.hidden).toBe(true)
    await provider.request({ method: 'wallet_disconnect' })
    expect(channel()).toBeNull()
  })

  test('behavior: a log-out pushed by the channel disconnects; later requests are 4100 saying why', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    const events = listen()
    fromChannel({ type: 'account', status: 'logged-out', address })
    expect(events).toEqual([
      ['accountsChanged', []],
      ['disconnect', 4900, 'The SSO account logged out in the SSO auth server.'],
    ])
    expect(await provider.request({ method: 'eth_accounts' })).toEqual([])
    expectRpcError(
      await rejectionOf(provider.request({ method: 'personal_sign', params: ['0x68', address] })),
      UnauthorizedError,
      4100,
      'Not connected: the SSO account logged out in the SSO auth server; call eth_requestAccounts first (from a click handler).',
    )
  })

  test('behavior: an account switch disconnects; messages from elsewhere or about another account change nothing', async () => {
    await provider.request({ method: 'eth_requestAccounts' })
    const events = listen()
    fromChannel({ type: 'account', status: 'logged-out', address }, 'https://evil.example')
    fromChannel({ type: 'account', status: 'logged-out', address }, authOrigin, window)
    fromChannel({ type: 'account', status: 'logged-out', address: other })
    fromChannel({ type: 'account', status: 'unknown' })
    fromChannel({ type: 'account', status: 'connected', address })
    expect(events).toEqual([])
    fromChannel({ type: 'account', status: 'switched', address })
    expect(events).toEqual([
      ['accountsChanged', []],
      ['disconnect', 4900, 'The SSO account was switched in the SSO auth server.'],
    ])
  })

  test('behavior: the popup answering 4100 "logged out" disconnects the dapp too (no channel needed)', async () => {
    server.restore()
    setup((request) =>
      request.method === 'eth_requestAccounts'
        ? { result: { accounts: [address], chainId: 31337 } }
        : {
            error: new UnauthorizedError('No SSO account is logged in.', { data: { reason: 'logged-out' } }),
          },
    )
    await provider.request({ method: 'eth_requestAccounts' })
    const events = listen()
    const error = await rejectionOf(provider.request({ method: 'personal_sign', params: ['0x68', address] }))
    expectRpcError(error, UnauthorizedError, 4100, 'No SSO account is logged in.')
    expect(events).toEqual([
      ['accountsChanged', []],
      ['disconnect', 4900, 'The SSO account logged out in the SSO auth server.'],
    ])
    expect(DisconnectedError.code).toBe(4900)
  })
})
