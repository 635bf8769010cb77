import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { useAccountStore } from './account'
import { useConfigStore } from './config'
import { callsOf, typedDataOf, useRequestsStore } from './requests'

const dapp = 'http://localhost:3001'
const account = '0x1111111111111111111111111111111111111111'
const other = '0x2222222222222222222222222222222222222222'

type Listener = (event: unknown) => void
let listeners: Map<string, Set<Listener>>
let posted: { message: unknown; targetOrigin: string }[]
let opener: { postMessage: (message: unknown, targetOrigin: string) => void }

// A popup window whose opener records what the popup posts (the real messenger runs on top of it).
beforeEach(() => {
  listeners = new Map()
  posted = []
  opener = { postMessage: (message, targetOrigin) => posted.push({ message, targetOrigin }) }
  ;(globalThis as Record<string, unknown>).window = {
    opener,
    location: { href: `http://localhost:3002/confirm?origin=${encodeURIComponent(dapp)}` },
    addEventListener: (type: string, listener: Listener) => {
      if (!listeners.has(type)) listeners.set(type, new Set())
      listeners.get(type)?.add(listener)
    },
    removeEventListener: (type: string, listener: Listener) => listeners.get(type)?.delete(listener),
  }
  setActivePinia(createPinia())
})
afterEach(() => {
  delete (globalThis as Record<string, unknown>).window
})

function send(data: unknown, origin = dapp, source: unknown = opener) {
  for (const listener of listeners.get('message') ?? []) listener({ data, origin, source })
}
const answers = () => posted.filter((p) => (p.message as { id?: string }).id !== undefined)

function loggedIn() {
  useAccountStore().account = {
    address: account,
    passkey: {
      id: 'AQID',
      publicKey: { x: `0x${'11'.repeat(32)}`, y: `0x${'22'.repeat(32)}` },
      origin: 'http://localhost:3002',
      rpId: 'localhost',
    },
  }
}

test('behavior: start posts ready to the opener; a request is queued with the dapp origin from the event', () => {
  const requests = useRequestsStore()
  requests.start()
  expect(posted).toEqual([{ message: { type: 'ready' }, targetOrigin: dapp }])
  send({ id: 'a', method: 'eth_requestAccounts', params: [], chainId: 31337 })
  expect(requests.origin).toBe(dapp)
  expect(requests.current?.request.method).toBe('eth_requestAccounts')
})

test('error: messages from another source are ignored', () => {
  const requests = useRequestsStore()
  requests.start()
  send({ id: 'a', method: 'eth_requestAccounts', params: [], chainId: 31337 }, dapp, {})
  expect(requests.queue).toHaveLength(0)
  expect(answers()).toEqual([])
})

test('behavior: reject answers 4001 to the dapp origin and removes the request', () => {
  const requests = useRequestsStore()
  requests.start()
  send({ id: 'a', method: 'eth_requestAccounts', params: [], chainId: 31337 })
  requests.reject('a')
  expect(answers()).toEqual([
    { message: { id: 'a', error: expect.objectContaining({ code: 4001 }) }, targetOrigin: dapp },
  ])
  expect(requests.queue).toHaveLength(0)
})

test('error: an unconfigured chain gets 4902, a signer that is not the account 4100, no account 4100', () => {
  const requests = useRequestsStore()
  requests.start()
  send({ id: 'a', method: 'eth_requestAccounts', params: [], chainId: 999 })
  send({ id: 'b', method: 'personal_sign', params: ['0x68656c6c6f', account], chainId: 31337 })
  loggedIn()
  send({ id: 'c', method: 'personal_sign', params: ['0x68656c6c6f', other], chainId: 31337 })
  send({
    id: 'd',
    method: 'wallet_sendCalls',
    params: [{ version: '2.0.0', chainId: '0x1', atomicRequired: true, calls: [{ to: other }] }],
    chainId: 31337,
  })
  send({ id: 'e', method: 'eth_sendTransaction', params: [{ to: other }, { magic: {} }], chainId: 31337 })
  const codes = Object.fromEntries(
    answers().map((a) => [
      (a.message as { id: string }).id,
      (a.message as { error: { code: number } }).error.code,
    ]),
  )
  // d names chain 1 in its params but was sent for 31337: refused as inconsistent before anything else.
  expect(codes).toEqual({ a: 4902, b: 4100, c: 4100, d: -32602, e: 5700 })
  expect(requests.queue).toHaveLength(0)
})

test('error: with a broken /sso-config.json every request is refused with -32603', () => {
  useConfigStore().error = '/sso-config.json is invalid: chains'
  const requests = useRequestsStore()
  requests.start()
  send({ id: 'a', method: 'eth_requestAccounts', params: [], chainId: 31337 })
  expect(answers()).toEqual([
    { message: { id: 'a', error: expect.objectContaining({ code: -32603 }) }, targetOrigin: dapp },
  ])
  expect(requests.queue).toHaveLength(0)
})

test('behavior: connect with a logged-in account answers the address and the chain', async () => {
  loggedIn()
  const requests = useRequestsStore()
  requests.start()
  send({ id: 'a', method: 'eth_requestAccounts', params: [], chainId: 31337 })
  await requests.approve('a')
  expect(answers()).toEqual([
    { message: { id: 'a', result: { accounts: [account], chainId: 31337 } }, targetOrigin: dapp },
  ])
  expect(requests.answered).toBe(1)
})

test('error: a failed approval keeps the request with the error; reportError answers that error', async () => {
  loggedIn()
  const requests = useRequestsStore()
  requests.start()
  send({ id: 'a', method: 'personal_sign', params: ['0x68656c6c6f', account], chainId: 31337 })
  // No WebAuthn in node: the passkey step fails like a browser without passkeys would.
  await requests.approve('a')
  expect(answers()).toEqual([])
  expect(requests.current?.state).toBe('pending')
  expect(requests.current?.error?.message).toMatch(/passkey/i)
  requests.reportError('a')
  expect(answers()).toEqual([
    { message: { id: 'a', error: expect.objectContaining({ code: -32603 }) }, targetOrigin: dapp },
  ])
})

test('behavior: callsOf and typedDataOf give viem-ready values', () => {
  useConfigStore()
  const calls = callsOf({
    id: 'x',
    method: 'wallet_sendCalls',
    chainId: 31337,
    params: [
      {
        version: '2.0.0',
        chainId: '0x7a69',
        atomicRequired: true,
        calls: [
          { to: other, value: '0x10' },
          { to: account, data: '0x1234' },
        ],
      },
    ],
  })
  expect(calls).toEqual([
    { to: other, value: 16n },
    { to: account, data: '0x1234', value: 0n },
  ])
  const typed = typedDataOf({
    types: { EIP712Domain: [{ name: 'name', type: 'string' }], Mail: [{ name: 'contents', type: 'string' }] },
    primaryType: 'Mail',
    domain: { name: 'x' },
    message: { contents: 'hi' },
  })
  expect(Object.keys(typed.types)).toEqual(['Mail'])
})

test('error: a chain stated in the params that differs from the envelope is refused with -32602, nothing queued', () => {
  const requests = useRequestsStore()
  requests.start()
  loggedIn()
  const call = { to: other, value: '0x1' }
  send({
    id: 'calls',
    method: 'wallet_sendCalls',
    params: [{ version: '2.0.0', chainId: '0x7a6a', from: account, atomicRequired: true, calls: [call] }],
    chainId: 31337,
  })
  send({
    id: 'tx',
    method: 'eth_sendTransaction',
    params: [{ ...call, from: account, chainId: '0x1' }],
    chainId: 31337,
  })
  const typed = {
    types: { Mail: [{ name: 'a', type: 'uint256' }] },
    primaryType: 'Mail',
    domain: { name: 'x', chainId: 8453 },
    message: { a: '1' },
  }
  send({
    id: 'typed',
    method: 'eth_signTypedData_v4',
    params: [account, JSON.stringify(typed)],
    chainId: 31337,
  })
  expect(requests.queue).toEqual([])
  const errors = answers().map((a) => a.message as { id: string; error?: { code: number; message: string } })
  expect(errors.map((e) => [e.id, e.error?.code])).toEqual([
    ['calls', -32602],
    ['tx', -32602],
    ['typed', -32602],
  ])
  expect(errors[0]?.error?.message).toBe(
    'The request names chain 31338 in its parameters but was sent for chain 31337: refused, nothing was signed.',
  )
  expect(errors[2]?.error?.message).toMatch(/names chain 8453/)
  // The same requests with matching chains are queued for approval.
  send({
    id: 'ok',
    method: 'wallet_sendCalls',
    params: [{ version: '2.0.0', chainId: '0x7a69', from: account, atomicRequired: true, calls: [call] }],
    chainId: 31337,
  })
  expect(requests.queue.map((q) => q.request.id)).toEqual(['ok'])
})
