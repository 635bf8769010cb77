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
