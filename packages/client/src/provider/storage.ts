/**
 * What the provider keeps across reloads: the connection (account, chain) and the index of batches it sent
 * (EIP-5792 ids -> userOp hashes). Storage that is full, denied or corrupt degrades to "not remembered".
 */
import * as v from 'valibot'
import { Address } from '../RpcSchema.js'
import type { ProviderStorage } from './types.js'

const ConnectionSchema = v.object({ address: v.optional(Address), chainId: v.number() })
export type Connection = v.InferOutput<typeof ConnectionSchema>

// batch id -> chain and userOp hash (the id is the userOp hash unless the dapp chose its own, EIP-5792 `id`);
// `sentAt` (ms) bounds how long a batch the bundler no longer knows stays pending (docs/interfaces.md).
const CallsSchema = v.record(
  v.string(),
  v.object({ chainId: v.number(), hash: v.string(), sentAt: v.optional(v.number()) }),
)
export type CallsEntry = { chainId: number; hash: string; sentAt?: number | undefined }

/** Batches this provider sent, newest last (at most 100). */
export type CallsIndex = {
  get(id: string): CallsEntry | undefined
  has(id: string): boolean
  remember(id: string, entry: CallsEntry): void
}

/** The connection saved under `key`, when it names a configured chain; otherwise disconnected on `fallbackChain`. */
export function restoreConnection(
  storage: ProviderStorage,
  key: string,
  chainIds: readonly number[],
  fallbackChain: number,
): Connection {
  try {
    const raw = storage.getItem(key)
    const parsed = raw ? v.safeParse(ConnectionSchema, JSON.parse(raw)) : undefined
    if (parsed?.success && chainIds.includes(parsed.output.chainId)) return parsed.output
  } catch {
    // Corrupt storage: start disconnected.
  }
  return { chainId: fallbackChain }
}

export function saveConnection(storage: ProviderStorage, key: string, connection: Connection | undefined) {
  try {
    if (connection) storage.setItem(key, JSON.stringify(connection))
    else storage.removeItem(key)
  } catch {
    // Storage full or denied: the connection just won't survive a reload.
  }
}

export function createCallsIndex(storage: ProviderStorage, key: string): CallsIndex {
  function read(): Record<string, CallsEntry> {
    try {
      const parsed = v.safeParse(CallsSchema, JSON.parse(storage.getItem(key) ?? '{}'))
      return parsed.success ? parsed.output : {}
    } catch {
      return {}
    }
  }
  return {
    get: (id) => (Object.hasOwn(read(), id) ? read()[id] : undefined),
    has: (id) => Object.hasOwn(read(), id),
    remember(id, entry) {
      const entries = Object.entries(read()).slice(-99)
      entries.push([id, entry])
      try {
        storage.setItem(key, JSON.stringify(Object.fromEntries(entries)))
      } catch {
        // Best effort: an unknown id is still looked up on the current chain.
      }
    },
  }
}

/** `localStorage` when the page may use it, else memory (a sandboxed iframe). */
export function defaultStorage(): ProviderStorage {
  try {
    if (typeof localStorage !== 'undefined') return localStorage
  } catch {
    // Access denied (sandboxed iframe): fall through.
  }
  const memory = new Map<string, string>()
  return {
    getItem: (key) => memory.get(key) ?? null,
    setItem: (key, value) => void memory.set(key, value),
    removeItem: (key) => void memory.delete(key),
  }
}

/** ERC-7715 permissions this provider granted (answers of `wallet_requestExecutionPermissions`), per account and chain. */
export type PermissionsIndex = {
  list(account: string, chainId: number): readonly unknown[]
  add(account: string, chainId: number, responses: readonly unknown[], expiresAt: number): void
  /** Forgets the permissions of `context` (a session id), or all of the account's on `chainId` when `all`. */
  remove(account: string, chainId: number, which: { context: string } | { all: true }): void
}

const PermissionsSchema = v.array(
  v.object({
    account: v.string(),
    chainId: v.number(),
    context: v.string(),
    expiresAt: v.number(),
    response: v.unknown(),
  }),
)
type PermissionEntry = v.InferOutput<typeof PermissionsSchema>[number]

export function createPermissionsIndex(storage: ProviderStorage, key: string): PermissionsIndex {
  function read(): PermissionEntry[] {
    try {
      const parsed = v.safeParse(PermissionsSchema, JSON.parse(storage.getItem(key) ?? '[]'))
      return parsed.success ? parsed.output : []
    } catch {
      return []
    }
  }
  function write(entries: PermissionEntry[]) {
    try {
      storage.setItem(key, JSON.stringify(entries.slice(-100)))
    } catch {
      // Best effort: the permissions stand on chain either way.
    }
  }
  const mine = (e: PermissionEntry, account: string, chainId: number) =>
    e.account.toLowerCase() === account.toLowerCase() && e.chainId === chainId
  return {
    list(account, chainId) {
      const now = Date.now() / 1000
      return read()
        .filter((e) => mine(e, account, chainId) && e.expiresAt > now)
        .map((e) => e.response)
    },
    add(account, chainId, responses, expiresAt) {
      const added = responses.map((response) => ({
        account,
        chainId,
        context: (response as { context: string }).context,
        expiresAt,
        response,
      }))
      write([...read(), ...added])
    },
    remove(account, chainId, which) {
      write(
        read().filter(
          (e) =>
            !mine(e, account, chainId) ||
            ('context' in which && e.context.toLowerCase() !== which.context.toLowerCase()),
        ),
      )
    },
  }
}
