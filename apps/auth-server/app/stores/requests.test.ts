import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { callsOf, typedDataOf } from '~/lib/popupRequest'
import { sendCalls } from '~/lib/userOperations'
import { useAccountStore } from './account'
import { useConfigStore } from './config'
import { useRequestsStore } from './requests'

// The bundler step is replaced (there is no chain here): the tests read which chain a userOp was built for.
vi.mock('~/lib/userOperations', async (importOriginal) => ({
  ...(await importOriginal<typeof import('~/lib/userOperations')>()),
  // Signs, announces the hash, then "sends" (the bundler is not reached in these tests).
  sendCalls: vi.fn(async ({ onSending }: { onSending?: (hash: `0x${string}`) => void }) => {
    const hash = `0x${'cd'.repeat(32)}` as const
    onSending?.(hash)
    return hash
  }),
}))

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
  vi.clearAllMocks()
})

function send(data: unknown, origin = dapp, source: unknown = opener) {
  for (const listener of listeners.get('message') ?? []) listener({ data, origin, source })
}
const answers = () =>
  posted.filter((p) => (p.message as { id?: string }).id !== undefined && !('type' in (p.message as object)))
const progress = () => posted.filter((p) => (p.message as { type?: string }).type === 'submitted')

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
    {
      message: { id: 'a', error: { code: 4001, message: 'The user rejected the request.' } },
      targetOrigin: dapp,
    },
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
    chainId: 1,
  })
  send({ id: 'e', method: 'eth_sendTransaction', params: [{ to: other }, { magic: {} }], chainId: 31337 })
  const errors = Object.fromEntries(
    answers().map((a) => [(a.message as { id: string }).id, (a.message as { error: unknown }).error]),
  )
  expect(errors).toEqual({
    a: { code: 4902, message: 'Chain 999 is not configured on this SSO server.' },
    b: {
      code: 4100,
      message: 'No SSO account is logged in: connect (eth_requestAccounts) first.',
      data: { reason: 'logged-out' },
    },
    c: {
      code: 4100,
      message: `The request is for another account: params[1] is ${other} but the logged-in SSO account is ${account}.`,
      data: { reason: 'another-account' },
    },
    d: { code: 5710, message: 'Chain 1 is not configured on this SSO server.' },
    e: { code: 5700, message: 'The capability "magic" is not supported.' },
  })
  expect(requests.queue).toHaveLength(0)
})

test('error: with a broken /sso-config.json every request is refused with -32603', () => {
  useConfigStore().error = '/sso-config.json is invalid: chains'
  const requests = useRequestsStore()
  requests.start()
  send({ id: 'a', method: 'eth_requestAccounts', params: [], chainId: 31337 })
  expect(answers()).toEqual([
    {
      message: {
        id: 'a',
        error: {
          code: -32603,
          message: 'The SSO server is misconfigured: /sso-config.json is invalid: chains',
        },
      },
      targetOrigin: dapp,
    },
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
  const shown = requests.current?.error
  requests.reportError('a')
  // The dapp gets exactly the error the user was shown.
  expect(shown?.code).toBe(-32603)
  expect(answers()).toEqual([{ message: { id: 'a', error: shown }, targetOrigin: dapp }])
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

describe('one value, one place: the popup refuses conflicting requests itself (never trusts the SDK)', () => {
  const configureSecondChain = () => {
    const config = useConfigStore()
    const first = config.config.chains[0]!
    config.config.chains.push({ ...first, id: 31338, name: 'SSO Devnet 2', rpcUrl: 'http://127.0.0.1:8546' })
  }
  const errorOf = (id: string) =>
    (answers().find((a) => (a.message as { id: string }).id === id)?.message as { error?: unknown })?.error
  const batch = (chainId: string) => [
    { version: '2.0.0', chainId, atomicRequired: true, calls: [{ to: other, value: '0xde0b6b3a7640000' }] },
  ]
  const conflict = (what: string, a: [string, string], b: [string, string]) => ({
    code: -32602,
    message: `Conflicting ${what} in the request: ${a[0]} is ${a[1]} but ${b[0]} is ${b[1]}.`,
    data: {
      reason: 'conflicting_params',
      what,
      fields: [
        { field: a[0], value: a[1] },
        { field: b[0], value: b[1] },
      ],
    },
  })

  test('error: wallet_sendCalls whose params[0].chainId is not request.chainId -> -32602, nothing queued', () => {
    configureSecondChain()
    loggedIn()
    const requests = useRequestsStore()
    requests.start()
    // Both chains are configured: before, the screen showed 31337 and the userOp was built for 31338.
    send({ id: 'x', method: 'wallet_sendCalls', params: batch('0x7a6a'), chainId: 31337 })
    expect(errorOf('x')).toEqual(
      conflict('chains', ['request.chainId', '31337'], ['params[0].chainId', '0x7a6a (31338)']),
    )
    // Refused before the account is even looked at: the same without a logged-in account.
    useAccountStore().account = undefined
    send({ id: 'y', method: 'wallet_sendCalls', params: batch('0x7a69'), chainId: 31338 })
    expect(errorOf('y')).toEqual(
      conflict('chains', ['request.chainId', '31338'], ['params[0].chainId', '0x7a69 (31337)']),
    )
    expect(requests.queue).toHaveLength(0)
    expect(requests.current).toBeUndefined()
    expect(vi.mocked(sendCalls)).not.toHaveBeenCalled()
  })

  test('error: eth_sendTransaction with another params[0].chainId, or data and input that differ -> -32602', () => {
    loggedIn()
    const requests = useRequestsStore()
    requests.start()
    send({ id: 'x', method: 'eth_sendTransaction', params: [{ to: other, chainId: '0x1' }], chainId: 31337 })
    send({
      id: 'y',
      method: 'eth_sendTransaction',
      params: [{ to: other, data: '0xa9059cbb', input: '0x095ea7b3' }],
      chainId: 31337,
    })
    expect(errorOf('x')).toEqual(
      conflict('chains', ['request.chainId', '31337'], ['params[0].chainId', '0x1 (1)']),
    )
    expect(errorOf('y')).toEqual(
      conflict('calldata', ['params[0].data', '0xa9059cbb'], ['params[0].input', '0x095ea7b3']),
    )
    expect(requests.queue).toHaveLength(0)
  })

  test('error: eth_signTypedData_v4 whose domain.chainId is not request.chainId -> -32602, nothing queued', () => {
    loggedIn()
    const requests = useRequestsStore()
    requests.start()
    const typedData = {
      types: { Mail: [{ name: 'contents', type: 'string' }] },
      primaryType: 'Mail',
      domain: { name: 'Mail', chainId: 1 },
      message: { contents: 'hi' },
    }
    send({ id: 'x', method: 'eth_signTypedData_v4', params: [account, typedData], chainId: 31337 })
    send({
      id: 'y',
      method: 'eth_signTypedData_v4',
      params: [account, JSON.stringify({ ...typedData, domain: { chainId: 'one' } })],
      chainId: 31337,
    })
    expect(errorOf('x')).toEqual(
      conflict('chains', ['request.chainId', '31337'], ['params[1].domain.chainId', '1']),
    )
    expect(errorOf('y')).toEqual({
      code: -32602,
      message: 'params[1].domain.chainId is "one", which is not a chain id.',
    })
    expect(requests.queue).toHaveLength(0)
    // The same typed data on its own chain is shown for approval.
    send({
      id: 'z',
      method: 'eth_signTypedData_v4',
      params: [account, { ...typedData, domain: { chainId: 31337 } }],
      chainId: 31337,
    })
    expect(requests.current?.request.id).toBe('z')
  })

  test('error: wallet_grantPermissions for another account than the logged-in one -> 4100 naming both', () => {
    const spec = {
      signer: other,
      expiresAt: 2_000_000_000,
      feeLimit: { type: 'lifetime', limit: '0x1' },
      callPolicies: [],
      transferPolicies: [
        {
          target: '0x3333333333333333333333333333333333333333',
          maxValuePerUse: '0x1',
          valueLimit: { type: 'lifetime', limit: '0x1' },
        },
      ],
    }
    const requests = useRequestsStore()
    requests.start()
    send({ id: 'x', method: 'wallet_grantPermissions', params: [{ spec, address: other }], chainId: 31337 })
    loggedIn()
    send({ id: 'y', method: 'wallet_grantPermissions', params: [{ spec, address: other }], chainId: 31337 })
    expect(errorOf('x')).toEqual({
      code: 4100,
      message: `The request is for ${other} (params[0].address) but no SSO account is logged in: connect (eth_requestAccounts) first.`,
      data: { reason: 'logged-out' },
    })
    expect(errorOf('y')).toEqual({
      code: 4100,
      message: `The request is for another account: params[0].address is ${other} but the logged-in SSO account is ${account}.`,
      data: { reason: 'another-account' },
    })
    expect(requests.queue).toHaveLength(0)
    // Its own account, or none named (sign-up in this popup), is shown for approval.
    send({ id: 'z', method: 'wallet_grantPermissions', params: [{ spec, address: account }], chainId: 31337 })
    send({ id: 'w', method: 'wallet_grantPermissions', params: [{ spec }], chainId: 31337 })
    expect(requests.queue.map((e) => e.request.id)).toEqual(['z', 'w'])
  })

  test('error: approving after the account changed refuses with 4100 and sends nothing', async () => {
    loggedIn()
    const requests = useRequestsStore()
    requests.start()
    send({
      id: 'a',
      method: 'wallet_sendCalls',
      params: [{ ...batch('0x7a69')[0], from: account }],
      chainId: 31337,
    })
    expect(requests.current?.request.id).toBe('a')
    // Another account logs in (this popup shares the auth server's storage) before the user approves.
    useAccountStore().account = { ...useAccountStore().account!, address: other }
    await requests.approve('a')
    expect(requests.current?.error).toEqual({
      code: 4100,
      message: `The request is for another account: params[0].from is ${account} but the logged-in SSO account is ${other}.`,
      data: { reason: 'another-account' },
    })
    expect(vi.mocked(sendCalls)).not.toHaveBeenCalled()
    expect(answers()).toEqual([])
  })

  test('behavior: an approved batch is built for the chain on screen (the request chain, which its params repeat)', async () => {
    configureSecondChain()
    loggedIn()
    const requests = useRequestsStore()
    requests.start()
    send({ id: 'a', method: 'wallet_sendCalls', params: batch('0x7a6a'), chainId: 31338 })
    expect(requests.chainOf(requests.current!.request)?.id).toBe(31338)
    await requests.approve('a')
    expect(requests.current).toBeUndefined()
    expect(vi.mocked(sendCalls)).toHaveBeenCalledTimes(1)
    const [{ chain, calls }] = vi.mocked(sendCalls).mock.calls[0]!
    expect(chain.id).toBe(31338)
    expect(calls).toEqual([{ to: other, value: 10n ** 18n }])
    expect(answers()).toEqual([
      { message: { id: 'a', result: { id: `0x${'cd'.repeat(32)}` } }, targetOrigin: dapp },
    ])
  })
})

describe('every approved request reaches the dapp; a request nobody will read is cancelled', () => {
  const batch = [{ version: '2.0.0', chainId: '0x7a69', atomicRequired: true, calls: [{ to: other }] }]
  const gone = 'The app that asked went away (closed or reloaded); nothing was signed.'

  test('behavior: the userOp hash is posted once signed, before it goes to the bundler and before the answer', async () => {
    loggedIn()
    const requests = useRequestsStore()
    requests.start()
    send({ id: 'a', method: 'wallet_sendCalls', params: batch, chainId: 31337, client: 'tab-1' })
    await requests.approve('a')
    const hash = `0x${'cd'.repeat(32)}`
    const [submitted] = progress()
    expect(submitted).toEqual({
      message: {
        type: 'submitted',
        id: 'a',
        userOpHash: hash,
        account: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      },
      targetOrigin: dapp,
    })
    expect(posted.indexOf(submitted!)).toBeLessThan(posted.indexOf(answers()[0]!))
  })

  test('behavior: the dapp leaving cancels its waiting requests (not those of another client), nothing signed', async () => {
    loggedIn()
    const requests = useRequestsStore()
    requests.start()
    send({ id: 'a', method: 'wallet_sendCalls', params: batch, chainId: 31337, client: 'tab-1' })
    send({ id: 'b', method: 'personal_sign', params: ['0x68', account], chainId: 31337, client: 'tab-2' })
    send({ type: 'leaving', client: 'tab-1' })
    expect(requests.queue.map((e) => e.request.id)).toEqual(['b'])
    expect(requests.cancelled).toBe(1)
    expect(answers()).toEqual([
      { message: { id: 'a', error: { code: 4001, message: gone } }, targetOrigin: dapp },
    ])
    await requests.approve('a') // a late click on a stale screen does nothing
    expect(vi.mocked(sendCalls)).not.toHaveBeenCalled()
    // `leaving` from another origin or another window is ignored
    send({ type: 'leaving', client: 'tab-2' }, 'https://evil.example')
    send({ type: 'leaving', client: 'tab-2' }, dapp, {})
    expect(requests.queue).toHaveLength(1)
  })

  test('behavior: the dapp leaving while its request is being prepared stops it before the passkey signs', async () => {
    loggedIn()
    let signed = false
    vi.mocked(sendCalls).mockImplementationOnce(async ({ onSign }) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      onSign?.()
      signed = true
      return `0x${'cd'.repeat(32)}`
    })
    const requests = useRequestsStore()
    requests.start()
    send({ id: 'a', method: 'eth_sendTransaction', params: [{ to: other }], chainId: 31337, client: 'tab-1' })
    const approving = requests.approve('a')
    send({ type: 'leaving', client: 'tab-1' })
    await approving
    expect(signed).toBe(false)
    expect(progress()).toEqual([])
    expect(requests.queue).toHaveLength(0)
    expect(requests.cancelled).toBe(1)
    expect(answers()).toEqual([
      { message: { id: 'a', error: { code: 4001, message: gone } }, targetOrigin: dapp },
    ])
  })
})
