import { afterEach, describe, expect, test, vi } from 'vitest'
import {
  InternalError,
  InvalidParamsError,
  PopupBlockedError,
  TimeoutError,
  UserRejectedRequestError,
} from './Errors.js'
import { expectRpcError, rejectionOf } from './internal/expectError.js'
import { authOrigin, installFakeAuthServer } from './internal/fakeAuthServer.js'
import { type FakePopup, tick } from './internal/fakeWindows.js'
import { createPopupMessenger } from './Messenger.js'
import { createPopup } from './Popup.js'
import { withHandOff } from './provider/receipt.js'

const address = '0x1111111111111111111111111111111111111111'
const cleanup: (() => void)[] = []
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn()
})

function setup(handler: Parameters<typeof installFakeAuthServer>[0], timeout?: number) {
  const server = installFakeAuthServer(handler)
  const popup = createPopup({ authServerUrl: authOrigin, timeout })
  cleanup.push(server.restore, popup.destroy)
  return { server, popup }
}

describe('Popup', () => {
  test('behavior: opens synchronously, answers, closes when nothing is pending', async () => {
    const { server, popup } = setup(() => ({ result: { accounts: [address], chainId: 31337 } }))
    const promise = popup.request('eth_requestAccounts', [], 31337)
    expect(server.popups).toHaveLength(1) // opened before any await
    expect(server.popups[0]?.location.href).toBe(`${authOrigin}/confirm?origin=http%3A%2F%2Flocalhost%3A3001`)
    await expect(promise).resolves.toEqual({ accounts: [address], chainId: 31337 })
    expect(server.popups[0]?.closed).toBe(true)
    expect(popup.isOpen).toBe(false)
  })

  test('behavior: queues several requests over one popup and reuses + focuses it', async () => {
    let release: (() => void) | undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { server, popup } = setup(async (request) => {
      if (request.method === 'personal_sign') await gate
      return { result: request.method === 'personal_sign' ? '0x01' : '0x02' }
    })
    const a = popup.request('personal_sign', ['0x68', address], 31337)
    const b = popup.request('eth_signTypedData_v4', [address, '{}'], 31337)
    expect(server.popups).toHaveLength(1)
    expect(server.popups[0]?.focused).toBe(1)
    // b is answered with -32602 by the popup (bad typed data) while a waits
    expectRpcError(
      await rejectionOf(b),
      InvalidParamsError,
      -32602,
      'Invalid params for "eth_signTypedData_v4".',
    )
    expect(popup.isOpen).toBe(true)
    release?.()
    await expect(a).resolves.toBe('0x01')
    expect(popup.isOpen).toBe(false)
  })

  test('error: a blocked popup rejects with PopupBlockedError', async () => {
    const { server, popup } = setup(() => ({ result: null }))
    server.block()
    const error = await rejectionOf(popup.request('eth_requestAccounts', [], 31337))
    expectRpcError(error, PopupBlockedError, -32603, 'The SSO popup was blocked by the browser.')
    expect((error as PopupBlockedError).message).toMatch(/click handler/)
  })

  test('error: closing the popup rejects every pending request with 4001 within a second', async () => {
    const { server, popup } = setup(() => 'hang')
    const a = popup.request('personal_sign', ['0x68', address], 31337)
    const b = popup.request('personal_sign', ['0x69', address], 31337)
    await tick(10)
    const started = Date.now()
    // the user closes the window: no pagehide message here, only `closed` (polling must catch it)
    Object.assign(server.popups[0] as object, { closed: true })
    const errors = await Promise.all([rejectionOf(a), rejectionOf(b)])
    expect(Date.now() - started).toBeLessThan(1000)
    for (const error of errors)
      expectRpcError(error, UserRejectedRequestError, 4001, 'The user closed the SSO popup.')
  })

  test('error: the closing message plus closed window rejects fast', async () => {
    const { server, popup } = setup(() => 'hang')
    const a = popup.request('personal_sign', ['0x68', address], 31337)
    await tick(10)
    const started = Date.now()
    server.popups[0]?.close() // pagehide -> { type: 'closing' }
    expectRpcError(await rejectionOf(a), UserRejectedRequestError, 4001, 'The user closed the SSO popup.')
    expect(Date.now() - started).toBeLessThan(300)
  })

  test('behavior: a reloaded popup (closing, then ready again) gets the pending requests again', async () => {
    const { server, popup } = setup(() => 'hang')
    const a = popup.request('personal_sign', ['0x68', address], 31337)
    await tick(10)
    const window = server.popups[0] as FakePopup
    window.dispatchEvent(new Event('pagehide')) // the page unloads but the window stays open
    await tick(1_100)
    expect(popup.pendingCount).toBe(1)
    // the reloaded page: a new messenger in the same window
    const reloaded = createPopupMessenger({ window })
    const seen: string[] = []
    reloaded.onRequest((request) => {
      seen.push(request.method)
      reloaded.respond(request as { id: string; method: 'personal_sign' }, '0x99')
    })
    await expect(a).resolves.toBe('0x99')
    expect(seen).toEqual(['personal_sign'])
    reloaded.destroy()
  })

  test('error: a request times out', async () => {
    const { popup } = setup(() => 'hang', 50)
    const error = await rejectionOf(popup.request('personal_sign', ['0x68', address], 31337))
    expectRpcError(error, TimeoutError, -32603, 'The SSO popup did not answer within 50 ms.')
    expect(popup.isOpen).toBe(false)
  })

  test('error: popup error answers are rebuilt into classes; malformed results are refused', async () => {
    const { server, popup } = setup((request) =>
      request.method === 'personal_sign'
        ? { error: new UserRejectedRequestError() }
        : { result: { accounts: [] } },
    )
    expectRpcError(
      await rejectionOf(popup.request('personal_sign', ['0x68', address], 31337)),
      UserRejectedRequestError,
      4001,
      'The user rejected the request.',
    )
    // the fake popup's messenger refuses to send a malformed result, so the request hangs until closed
    const p = popup.request('eth_requestAccounts', [], 31337)
    await tick(10)
    expect(String(server.thrown[0])).toMatch(/malformed result/)
    popup.close()
    expectRpcError(await rejectionOf(p), UserRejectedRequestError, 4001, 'The user closed the SSO popup.')
  })

  test('error: forged, unknown and replayed answers are ignored', async () => {
    const { server, popup } = setup(() => 'hang')
    const p = popup.request('personal_sign', ['0x68', address], 31337)
    await vi.waitFor(() => expect(server.requests).toHaveLength(1))
    const id = server.requests[0]?.id as string
    const victim = server.popups[0]
    server.sendToDapp({ id, result: '0xbad' }, 'https://evil.example', victim)
    server.sendToDapp({ id, result: '0xbad' }, authOrigin, {})
    server.sendToDapp({ id: 'unknown', result: '0xbad' }, authOrigin, victim)
    server.sendToDapp({ id, result: 'not hex' }, authOrigin, victim) // consumed and rejected as malformed
    expectRpcError(
      await rejectionOf(p),
      InvalidParamsError,
      -32602,
      'The popup answered "personal_sign" with a malformed result.',
    )
    server.sendToDapp({ id, result: '0x01' }, authOrigin, victim) // replay after settle: ignored
    expect(popup.pendingCount).toBe(0)
  })

  describe('every approved request reaches the dapp', () => {
    const userOpHash = `0x${'bb'.repeat(32)}` as const
    const txHash = `0x${'aa'.repeat(32)}` as const
    const sendParams = [{ to: address, value: '0x1' }] as [{ to: `0x${string}`; value: `0x${string}` }]

    test('behavior: the popup closed after it sent the userOp -> the request finishes without it, no 4001', async () => {
      const { server, popup } = setup((request, messenger) => {
        messenger.submitted(request, { userOpHash, account: address })
        return 'hang'
      })
      const finished: string[] = []
      const p = popup.request('eth_sendTransaction', sendParams, 31337, {
        finish: async (sent) => {
          finished.push(sent.userOpHash)
          return txHash
        },
      })
      await vi.waitFor(() => expect(server.requests).toHaveLength(1))
      await tick(20)
      server.popups[0]?.close() // the user closes the popup right after Approve
      await expect(p).resolves.toBe(txHash)
      expect(finished).toEqual([userOpHash])
      expect(popup.pendingCount).toBe(0)
    })

    test('behavior: the popup closed right after signing -> the dapp hands the signed userOp to the bundler, then finishes', async () => {
      const entryPoint = '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108' as const
      const userOperation = {
        sender: address,
        nonce: '0x1',
        callData: '0x',
        callGasLimit: '0x1',
        verificationGasLimit: '0x1',
        preVerificationGas: '0x1',
        maxFeePerGas: '0x1',
        maxPriorityFeePerGas: '0x1',
        signature: '0x01',
      } as const
      const { server, popup: bare } = setup((request, messenger) => {
        messenger.submitted(request, { userOpHash, account: address, userOperation, entryPoint })
        return 'hang'
      })
      const bundler: unknown[] = []
      vi.stubGlobal(
        'fetch',
        vi.fn(async (url: string, init: { body: string }) => {
          const { id, method, params } = JSON.parse(init.body) as {
            id: number
            method: string
            params: unknown
          }
          bundler.push({ url, method, params })
          // It already has it (the popup's own send got through): refused, and that is fine.
          return new Response(
            JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32602, message: 'already known' } }),
          )
        }),
      )
      const popup = withHandOff(bare, (chainId) => (chainId === 31337 ? 'http://127.0.0.1:4337' : undefined))
      const p = popup.request('eth_sendTransaction', sendParams, 31337, { finish: async () => txHash })
      await vi.waitFor(() => expect(server.requests).toHaveLength(1))
      await tick(20)
      server.popups[0]?.close()
      await expect(p).resolves.toBe(txHash)
      expect(bundler).toEqual([
        {
          url: 'http://127.0.0.1:4337',
          method: 'eth_sendUserOperation',
          params: [userOperation, entryPoint],
        },
      ])
      // A signed operation that does not fit the schema is left out of the message: nothing to hand over.
      const { server: other, popup: bare2 } = setup((request, messenger) => {
        messenger.submitted(request, {
          userOpHash,
          account: address,
          userOperation: { ...userOperation, nonce: 'one' } as never,
          entryPoint,
        })
        return 'hang'
      })
      const q = withHandOff(bare2, () => 'http://127.0.0.1:4337').request(
        'eth_sendTransaction',
        sendParams,
        31337,
        {
          finish: async () => txHash,
        },
      )
      await vi.waitFor(() => expect(other.requests).toHaveLength(1))
      await tick(20)
      other.popups[0]?.close()
      await expect(q).resolves.toBe(txHash)
      expect(bundler).toHaveLength(1)
      vi.unstubAllGlobals()
    })

    test('behavior: answered by the popup after submitted -> the popup answer, finish never runs', async () => {
      const { popup } = setup((request, messenger) => {
        messenger.submitted(request, { userOpHash, account: address })
        return { result: txHash }
      })
      let finished = 0
      const p = popup.request('eth_sendTransaction', sendParams, 31337, {
        finish: async () => {
          finished++
          return `0x${'ff'.repeat(32)}` as const
        },
      })
      await expect(p).resolves.toBe(txHash)
      await tick(300)
      expect(finished).toBe(0)
    })

    test('behavior: a popup reloaded after it sent the userOp does not get the request again', async () => {
      const { server, popup } = setup((request, messenger) => {
        messenger.submitted(request, { userOpHash, account: address })
        return 'hang'
      })
      const p = popup.request('eth_sendTransaction', sendParams, 31337, { finish: async () => txHash })
      await vi.waitFor(() => expect(server.requests).toHaveLength(1))
      await tick(20)
      const window = server.popups[0] as FakePopup
      window.dispatchEvent(new Event('pagehide'))
      const reloaded = createPopupMessenger({ window })
      const seen: string[] = []
      reloaded.onRequest((request) => seen.push(request.id))
      await expect(p).resolves.toBe(txHash)
      await tick(20)
      expect(seen).toEqual([]) // answered exactly once: not shown again for a second approval
      reloaded.destroy()
    })

    test('error: sent but no way to finish it -> -32603 naming the userOp, never 4001', async () => {
      const { server, popup } = setup((request, messenger) => {
        messenger.submitted(request, { userOpHash, account: address })
        return 'hang'
      })
      const p = popup.request('eth_sendTransaction', sendParams, 31337)
      await vi.waitFor(() => expect(server.requests).toHaveLength(1))
      await tick(20)
      server.popups[0]?.close()
      const error = await rejectionOf(p)
      expectRpcError(
        error,
        InternalError,
        -32603,
        `The SSO popup went away after sending user operation ${userOpHash}; its result is unknown.`,
      )
    })

    test('behavior: a submitted request no longer times out as a whole', async () => {
      const { server, popup } = setup((request, messenger) => {
        messenger.submitted(request, { userOpHash, account: address })
        return 'hang'
      }, 50)
      const p = popup.request('eth_sendTransaction', sendParams, 31337, { finish: async () => txHash })
      await tick(120)
      expect(popup.pendingCount).toBe(1)
      server.popups[0]?.close()
      await expect(p).resolves.toBe(txHash)
    })

    test('behavior: the dapp page going away tells the popup which client left', async () => {
      const { server, popup } = setup(() => 'hang')
      const p = popup.request('personal_sign', ['0x68', address], 31337)
      await tick(10)
      const messenger = createPopupMessenger({ window: server.popups[0] as FakePopup, ready: false })
      const gone: unknown[] = []
      messenger.onGone((event) => gone.push(event))
      window.dispatchEvent(new Event('pagehide')) // the dapp reloads
      await tick(10)
      const client = server.requests[0]?.client
      expect(client).toMatch(/^[0-9a-f-]{36}$/)
      expect(gone).toEqual([{ reason: 'left', client }])
      messenger.destroy()
      popup.close()
      expectRpcError(await rejectionOf(p), UserRejectedRequestError, 4001, 'The user closed the SSO popup.')
    })
  })
})
