/**
 * What this browser knows about the apps that used the account (docs/dashboard.md, "Connected apps"): when each
 * origin connected, and which sessions and user operations it asked for. The chain does not know an app's origin,
 * so the dashboard names the app of a session or a transaction only when the popup on this origin recorded it.
 * Kept in localStorage (`sso.auth.apps`), bounded; the account channel's records (`connections.ts`) stay as they are.
 */
import type { Hex } from 'viem'
import { disconnectApp } from './connections'

export const appsKey = 'sso.auth.apps'

/** What is kept per origin. */
export type AppRecord = {
  origin: string
  /** The account it connected (lowercase not required). */
  address: string
  /** First and latest connection, ms since the epoch. */
  firstConnectedAt: number
  lastConnectedAt: number
  /** Sessions it was granted: `<chainId>:<sessionId>`. */
  sessions: string[]
  /** User operations it asked for: `<chainId>:<userOpHash>` (the newest 200). */
  userOps: string[]
  /** Set when disconnected in the dashboard (ms): no longer listed as connected; its history keeps its name. */
  disconnectedAt?: number | undefined
}

type Records = Record<string, AppRecord>

function read(): Records {
  try {
    const parsed = JSON.parse(localStorage.getItem(appsKey) ?? '{}') as unknown
    if (typeof parsed !== 'object' || parsed === null) return {}
    return Object.fromEntries(
      Object.entries(parsed as Record<string, AppRecord>).filter(
        ([origin, r]) =>
          typeof r?.address === 'string' &&
          r.origin === origin &&
          Array.isArray(r.sessions) &&
          Array.isArray(r.userOps) &&
          typeof r.firstConnectedAt === 'number',
      ),
    )
  } catch {
    return {}
  }
}

function write(records: Records) {
  try {
    localStorage.setItem(appsKey, JSON.stringify(records))
  } catch {
    // Storage denied or full: the dashboard then shows fewer app names; nothing depends on them.
  }
}

function update(origin: string, address: string, change: (record: AppRecord) => void) {
  const records = read()
  const now = Date.now()
  const record = records[origin] ?? {
    origin,
    address,
    firstConnectedAt: now,
    lastConnectedAt: now,
    sessions: [],
    userOps: [],
  }
  if (record.address.toLowerCase() !== address.toLowerCase()) {
    // Another account connected from this origin: its history here starts again.
    Object.assign(record, { address, firstConnectedAt: now, sessions: [], userOps: [] })
  }
  change(record)
  records[origin] = record
  write(records)
}

/** Records that `origin` connected `address` now. */
export function recordAppConnected(origin: string, address: string) {
  update(origin, address, (r) => {
    r.lastConnectedAt = Date.now()
    r.disconnectedAt = undefined
  })
}

/** Records that `origin` was granted a session. */
export function recordAppSession(origin: string, address: string, chainId: number, sessionId: Hex) {
  update(origin, address, (r) => {
    const key = `${chainId}:${sessionId.toLowerCase()}`
    if (!r.sessions.includes(key)) r.sessions.push(key)
  })
}

/** Records that `origin` asked for a user operation. */
export function recordAppUserOp(origin: string, address: string, chainId: number, userOpHash: Hex) {
  const key = `${chainId}:${userOpHash.toLowerCase()}`
  update(origin, address, (r) => {
    r.userOps = [key, ...r.userOps.filter((u) => u !== key)].slice(0, 200)
  })
}

/** Every app that ever connected `address` here, most recent first. */
function recordsOf(address: string): AppRecord[] {
  return Object.values(read())
    .filter((r) => r.address.toLowerCase() === address.toLowerCase())
    .sort((a, b) => b.lastConnectedAt - a.lastConnectedAt)
}

/** The apps connected to `address` (not disconnected), most recent first. */
export function appsOf(address: string): AppRecord[] {
  return recordsOf(address).filter((r) => r.disconnectedAt === undefined)
}

/** The sessions `origin` was granted for `address` on `chainId` here, oldest first. */
export function sessionsOfApp(origin: string, address: string, chainId: number): Hex[] {
  const record = read()[origin]
  if (!record || record.address.toLowerCase() !== address.toLowerCase()) return []
  const prefix = `${chainId}:`
  return record.sessions.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length) as Hex)
}

/** The origin that asked for a session or a user operation, when this browser recorded it. */
export function originIndex(address: string): { session: Map<string, string>; userOp: Map<string, string> } {
  const session = new Map<string, string>()
  const userOp = new Map<string, string>()
  for (const r of recordsOf(address)) {
    for (const s of r.sessions) session.set(s, r.origin)
    for (const u of r.userOps) userOp.set(u, r.origin)
  }
  return { session, userOp }
}

/**
 * Disconnects `origin`: no longer listed as connected (its sessions and transactions keep its name in the history),
 * and told through the account channel that the account is gone for it (docs/interfaces.md, "Account channel").
 * Its sessions stay valid on chain until revoked.
 */
export function forgetApp(origin: string) {
  const records = read()
  const record = records[origin]
  if (record) {
    record.disconnectedAt = Date.now()
    write(records)
  }
  disconnectApp(origin)
}
