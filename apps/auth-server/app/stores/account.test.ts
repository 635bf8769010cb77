import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, expect, test, vi } from 'vitest'
import { type AccountCandidate, logInWithPasskey } from '~/lib/account'
import type { SsoChainConfig } from '~/lib/config'
import { useAccountStore } from './account'

// The passkey and chain step is replaced (no authenticator, no chain here): each log-in finds two accounts.
vi.mock('~/lib/account', async (importOriginal) => ({
  ...(await importOriginal<typeof import('~/lib/account')>()),
  logInWithPasskey: vi.fn(),
}))

const passkey = {
  id: 'AQID',
  publicKey: { x: `0x${'11'.repeat(32)}`, y: `0x${'22'.repeat(32)}` },
  origin: 'http://localhost:3002',
  rpId: 'localhost',
} as const
const candidate = (address: `0x${string}`): AccountCandidate => ({
  address,
  passkey,
  deployed: true,
  via: 'added passkey',
})
const a = candidate('0x1111111111111111111111111111111111111111')
const b = candidate('0x2222222222222222222222222222222222222222')
const chain = { id: 31337, name: 'Anvil' } as SsoChainConfig

beforeEach(() => {
  const storage = new Map<string, string>()
  ;(globalThis as Record<string, unknown>).localStorage = {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => storage.set(key, value),
    removeItem: (key: string) => storage.delete(key),
  }
  setActivePinia(createPinia())
  vi.mocked(logInWithPasskey).mockResolvedValue([a, b])
})
afterEach(() => {
  delete (globalThis as Record<string, unknown>).localStorage
  vi.clearAllMocks()
})

test('behavior: a passkey of two accounts waits for the pick, then keeps the picked account', async () => {
  const store = useAccountStore()
  const login = store.logIn(chain)
  await vi.waitFor(() => expect(store.choices.map((c) => c.address)).toEqual([a.address, b.address]))
  store.choose(b.address)
  expect(await login).toEqual({ address: b.address, passkey })
  expect(store.account?.address).toBe(b.address)
  expect(store.choices).toEqual([])
})

test('error: a second log-in while the first waits for a pick ends the first with 4001; the second still works', async () => {
  const store = useAccountStore()
  const first = store.logIn(chain).catch((error: Error & { code?: number }) => error)
  await vi.waitFor(() => expect(store.choices).toHaveLength(2))
  const second = store.logIn(chain)
  expect(await first).toMatchObject({
    name: 'AccountError',
    code: 4001,
    message: 'Log-in cancelled: another log-in started.',
  })
  await vi.waitFor(() => expect(store.choices).toHaveLength(2))
  store.choose(a.address)
  expect(await second).toEqual({ address: a.address, passkey })
  expect(store.account?.address).toBe(a.address)
})

test('error: cancelling the pick ends the log-in with 4001 and keeps no account', async () => {
  const store = useAccountStore()
  const login = store.logIn(chain).catch((error: Error & { code?: number }) => error)
  await vi.waitFor(() => expect(store.choices).toHaveLength(2))
  store.cancelChoice()
  expect(await login).toMatchObject({
    name: 'AccountError',
    code: 4001,
    message: 'Log-in cancelled: no account was picked.',
  })
  expect(store.account).toBe(undefined)
  expect(store.choices).toEqual([])
})
