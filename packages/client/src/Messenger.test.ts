import { afterEach, describe, expect, test, vi } from 'vitest'
import { InternalError, UserRejectedRequestError } from './Errors.js'
import { expectRpcError, thrownBy } from './internal/expectError.js'
import { type FakePopup, installFakeWindows, sendToPopup, tick } from './internal/fakeWindows.js'
import { confirmUrl, createDappMessenger, createPopupMessenger, type PopupMessenger } from './Messenger.js'
import type { PopupMessage, PopupRequest } from './RpcSchema.js'

const dappOrigin = 'http://localhost:3001'
const authOrigin = 'http://localhost:3002'
const address = '0x1111111111111111111111111111111111111111'

function setup(options: { popupUrl?: string } = {}) {
  let popupMessenger: PopupMessenger | undefined
  const requests: PopupRequest[] = []
  const fake = installFakeWindows({
    dappOrigin,
    authOrigin,
    onOpen(popup) {
      popupMessenger = createPopupMessenger({ window: popup })
      popupMessenger.onRequest((request) => requests.push(request))
    },
  })
  const popup = window.open(options.popupUrl ?? confirmUrl(authOrigin, dappOrigin)) as unknown as FakePopup
  const messages: PopupMessage[] = []
  const dapp = createDappMessenger({
    authServerOrigin: authOrigin,
    getPopup: () => popup as unknown as Window,
    onMessage: (message) => messages.push(message),
  })
  return { fake, popup, popupMessenger: popupMessenger!, requests, messages, dapp }
}

let cleanup: (() => void)[] = []
afterEach(() => {
  for (const fn of cleanup) fn()
  cleanup = []
})

describe('Messenger', () => {
  test('behavior: confirmUrl carries the dapp origin', () => {
    expect(confirmUrl('http://localhost:3002', dappOrigin)).toBe(
      'http://localhost:3002/confirm?origin=http%3A%2F%2Flocalhost%3A3001',
    )
    expect(confirmUrl('https://sso.example/auth/', dappOrigin)).toMatch(
      /^https:\/\/sso\.example\/auth\/confirm\?/,
    )
  })

  test('behavior: ready, request, response with explicit target origins', async () => {
    const s = setup()
    cleanup.push(s.fake.restore, s.dapp.destroy, s.popupMessenger.destroy)
    await tick()
    expect(s.messages).toEqual([{ type: 'ready' }])
    expect(
      s.dapp.post({ id: 'r1', method: 'personal_sign', params: ['0x68', address], chainId: 31337 }),
    ).toBe(true)
    expect(s.popup.received[0]?.targetOrigin).toBe(authOrigin)
    await tick()
    expect(s.requests).toEqual([
      { id: 'r1', method: 'personal_sign', params: ['0x68', address], chainId: 31337 },
    ])
    expect(s.popupMessenger.origin).toBe(dappOrigin)
    expect(s.popupMessenger.pending).toHaveLength(1)
    expect(s.popupMessenger.respond({ id: 'r1', method: 'personal_sign' }, '0xabcd')).toBe(true)
    expect(s.popupMessenger.pending).toHaveLength(0)
    await tick()
    expect(s.messages.at(-1)).toEqual({ id: 'r1', result: '0xabcd' })
    // a second answer for the same id is refused
    expect(s.popupMessenger.respond({ id: 'r1', method: 'personal_sign' }, '0xabcd')).toBe(false)
  })

  test('behavior: errors cross as { code, message, data }', async () => {
    const s = setup()
    cleanup.push(s.fake.restore, s.dapp.destroy, s.popupMessenger.destroy)
    s.dapp.post({ id: 'r1', method: 'eth_requestAccounts', params: [], chainId: 31337 })
    await tick()
    s.popupMessenger.reject({ id: 'r1' }, new UserRejectedRequestError())
    await tick()
    expect(s.messages.at(-1)).toEqual({
      id: 'r1',
      error: { code: 4001, message: 'The user rejected the request.' },
    })
  })

  test('error: the popup refuses to answer with a malformed result', async () => {
    const s = setup()
    cleanup.push(s.fake.restore, s.dapp.destroy, s.popupMessenger.destroy)
    s.dapp.post({ id: 'r1', method: 'eth_requestAccounts', chainId: 31337 })
    await tick()
    expectRpcError(
      thrownBy(() =>
        s.popupMessenger.respond({ id: 'r1', method: 'eth_requestAccounts' }, { accounts: [], chainId: 1 }),
      ),
      InternalError,
      -32603,
      'The popup tried to answer "eth_requestAccounts" with a malformed result.',
    )
    expect(s.popupMessenger.pending).toHaveLength(1)
  })

  test('error: the popup answers unknown methods and bad params with -32601 / -32602', async () => {
    const s = setup()
    cleanup.push(s.fake.restore, s.dapp.destroy, s.popupMessenger.destroy)
    s.dapp.post({ id: 'a', method: 'eth_sign', params: [], chainId: 31337 })
    s.dapp.post({ id: 'b', method: 'personal_sign', params: ['hello'], chainId: 31337 })
    await tick()
    await tick()
    expect(s.requests).toHaveLength(0)
    const errors = s.messages.filter((m) => 'error' in m)
    expect(errors).toMatchObject([
      { id: 'a', error: { code: -32601 } },
      { id: 'b', error: { code: -32602 } },
    ])
  })

  test('error: the popup ignores wrong source, other origins after the first request, replays and junk', async () => {
    const s = setup()
    cleanup.push(s.fake.restore, s.dapp.destroy, s.popupMessenger.destroy)
    const request = { id: 'r1', method: 'personal_sign', params: ['0x68', address], chainId: 31337 }
    // wrong source (not window.opener)
    sendToPopup(s.popup, request, dappOrigin, {})
    sendToPopup(s.popup, request, dappOrigin, null)
    expect(s.requests).toHaveLength(0)
    // first valid request pins the origin
    sendToPopup(s.popup, request, dappOrigin, s.fake.opener)
    expect(s.requests).toHaveLength(1)
    // replay
    sendToPopup(s.popup, request, dappOrigin, s.fake.opener)
    // another origin, even from the opener (it navigated)
    sendToPopup(s.popup, { ...request, id: 'r2' }, 'https://evil.example', s.fake.opener)
    // junk
    for (const junk of [null, 'x', 42, { id: 5 }, { method: 'personal_sign' }, [request]])
      sendToPopup(s.popup, junk, dappOrigin, s.fake.opener)
    expect(s.requests).toHaveLength(1)
    await tick()
    expect(s.messages.filter((m) => 'id' in m)).toHaveLength(0)
  })

  test('error: the dapp ignores wrong origin, wrong source, malformed and no popup', async () => {
    const s = setup()
    cleanup.push(s.fake.restore, s.dapp.destroy, s.popupMessenger.destroy)
    await tick()
    s.messages.length = 0
    s.fake.sendToDapp({ id: 'r1', result: '0x' }, 'https://evil.example', s.popup)
    s.fake.sendToDapp({ id: 'r1', result: '0x' }, authOrigin, window)
    s.fake.sendToDapp({ id: 'r1', result: '0x' }, authOrigin, null)
    for (const junk of [null, 'x', { id: 1, result: 1 }, { type: 'nope' }, { id: 'r1', error: 'x' }])
      s.fake.sendToDapp(junk, authOrigin, s.popup)
    expect(s.messages).toHaveLength(0)
    s.fake.sendToDapp({ id: 'r1', result: '0x' }, authOrigin, s.popup)
    expect(s.messages).toHaveLength(1)
    const noPopup = createDappMessenger({
      authServerOrigin: authOrigin,
      getPopup: () => null,
      onMessage: vi.fn(),
    })
    expect(noPopup.post({ id: 'x', method: 'eth_requestAccounts', chainId: 1 })).toBe(false)
    noPopup.destroy()
  })

  test('behavior: a lying origin param only loses the ready message', async () => {
    const s = setup({
      popupUrl: `${authOrigin}/confirm?origin=${encodeURIComponent('https://bank.example')}`,
    })
    cleanup.push(s.fake.restore, s.dapp.destroy, s.popupMessenger.destroy)
    await tick()
    expect(s.messages).toHaveLength(0)
    // the dapp can still talk; the popup learns the real origin from the browser
    s.dapp.post({ id: 'r1', method: 'eth_requestAccounts', chainId: 31337 })
    await tick()
    expect(s.popupMessenger.origin).toBe(dappOrigin)
  })

  test('behavior: requests before the first subscription are buffered; pagehide posts closing', async () => {
    const fake = installFakeWindows({ dappOrigin, authOrigin })
    const popup = window.open(confirmUrl(authOrigin, dappOrigin)) as unknown as FakePopup
    const messenger = createPopupMessenger({ window: popup, ready: false })
    const messages: PopupMessage[] = []
    const dapp = createDappMessenger({
      authServerOrigin: authOrigin,
      getPopup: () => popup as unknown as Window,
      onMessage: (message) => messages.push(message),
    })
    cleanup.push(fake.restore, dapp.destroy, messenger.destroy)
    dapp.post({ id: 'r1', method: 'eth_requestAccounts', chainId: 31337 })
    await tick()
    const seen: string[] = []
    messenger.onRequest((request, context) => seen.push(`${request.id}@${context.origin}`))
    expect(seen).toEqual([`r1@${dappOrigin}`])
    popup.close()
    await tick()
    expect(messages).toEqual([{ type: 'closing' }])
  })
})
