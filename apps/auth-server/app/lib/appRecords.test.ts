import { beforeEach, describe, expect, test } from 'vitest'
import {
  appsKey,
  appsOf,
  forgetApp,
  originIndex,
  recordAppConnected,
  recordAppSession,
  recordAppUserOp,
} from './appRecords'
import { connectionsKey, disconnectedKey, recordConnection } from './connections'

const account = '0x1111111111111111111111111111111111111111'
const other = '0x2222222222222222222222222222222222222222'
const demo = 'https://demo.example'
const shop = 'https://shop.example'
const sessionId = `0x${'ab'.repeat(32)}` as const
const userOpHash = `0x${'CD'.repeat(32)}` as const

/** localStorage of one origin, in memory. */
function fakeStorage() {
  const items = new Map<string, string>()
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, String(value)),
    removeItem: (key: string) => void items.delete(key),
  }
}

beforeEach(() => {
  ;(globalThis as { localStorage?: unknown }).localStorage = fakeStorage()
})

describe('app records', () => {
  test('behavior: connections, sessions and user operations are kept per origin and account', () => {
    recordAppConnected(demo, account)
    recordAppSession(demo, account, 31337, sessionId)
    recordAppUserOp(demo, account, 31337, userOpHash)
    recordAppUserOp(demo, account, 31337, userOpHash)
    recordAppConnected(shop, other)
    const [app] = appsOf(account)
    expect(appsOf(account)).toHaveLength(1)
    expect(app).toMatchObject({
      origin: demo,
      sessions: [`31337:${sessionId}`],
      userOps: [`31337:${userOpHash.toLowerCase()}`],
    })
    const index = originIndex(account)
    expect(index.session.get(`31337:${sessionId}`)).toBe(demo)
    expect(index.userOp.get(`31337:${userOpHash.toLowerCase()}`)).toBe(demo)
    expect(appsOf(other).map((a) => a.origin)).toEqual([shop])
  })

  test('behavior: another account connecting from the same origin starts its record again', () => {
    recordAppSession(demo, account, 31337, sessionId)
    recordAppConnected(demo, other)
    expect(appsOf(account)).toEqual([])
    expect(appsOf(other)[0]!.sessions).toEqual([])
  })

  test('behavior: disconnect forgets the app and marks it for the account channel until it connects again', () => {
    recordConnection(demo, account)
    recordAppConnected(demo, account)
    recordAppSession(demo, account, 31337, sessionId)
    forgetApp(demo)
    expect(appsOf(account)).toEqual([])
    // Its session keeps its name in the history.
    expect(originIndex(account).session.get(`31337:${sessionId}`)).toBe(demo)
    expect(JSON.parse(localStorage.getItem(disconnectedKey)!)).toEqual({ [demo]: account })
    // The channel still knows which account the app had: it reports `logged-out` for that one.
    expect(JSON.parse(localStorage.getItem(connectionsKey)!)).toEqual({ [demo]: account })
    recordConnection(demo, account)
    recordAppConnected(demo, account)
    expect(JSON.parse(localStorage.getItem(disconnectedKey)!)).toEqual({})
    expect(appsOf(account).map((a) => a.origin)).toEqual([demo])
  })

  test('error: malformed records are ignored, not thrown', () => {
    localStorage.setItem(appsKey, '{"https://x.example":{"origin":"https://y.example"},"bad":3}')
    expect(appsOf(account)).toEqual([])
    localStorage.setItem(appsKey, 'not json')
    expect(appsOf(account)).toEqual([])
  })
})
