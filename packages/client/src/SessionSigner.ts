/**
 * Session keys: created in the dapp and never leaving it (docs/architecture.md, section 5). In browsers a non-extractable WebCrypto
 * P-256 key kept in IndexedDB; in Node a secp256k1 key (viem). Only the public part (`publicKey`) goes to the popup.
 *
 * Signature format (SessionKeyValidator NatSpec): the session key signs
 * `digest = keccak256(abi.encode(userOpHash, sessionId))`:
 * - secp256k1: 65-byte `r ‖ s ‖ v` over `digest` itself (no prefix);
 * - P-256: 64-byte `r ‖ s` over `sha256(digest)` (WebCrypto ECDSA/SHA-256 of the 32 digest bytes); we normalise
 *   to low-s (the contract accepts both).
 */
import { type Address, encodeAbiParameters, type Hex, keccak256 } from 'viem'
import { generatePrivateKey, privateKeyToAccount, sign } from 'viem/accounts'
import { BaseError } from './Errors.js'
import { bytesToHex, hexToBytes } from './WebAuthn.js'

/** A session key. `publicKey` is what goes into the spec's `signer`. */
export type SessionSigner = {
  kind: 'p256' | 'secp256k1'
  /** Stable id of the key in its store. */
  id: string
  /** The spec's `signer`: a 20-byte address (secp256k1) or a 64-byte `x ‖ y` (P-256). */
  publicKey: Hex
  /** Signs `keccak256(abi.encode(userOpHash, sessionId))` in the validator's format. */
  signUserOpHash(userOpHash: Hex, sessionId: Hex): Promise<Hex>
}

/** The boundary of key persistence: IndexedDB in browsers ({@link createIdbKeyStore}), a Map in tests. */
export type SessionKeyStore = {
  get(id: string): Promise<unknown>
  set(id: string, value: unknown): Promise<void>
  delete(id: string): Promise<void>
}

/** What the validator verifies for a userOp signed by a session: `keccak256(abi.encode(userOpHash, sessionId))`. */
export function sessionDigest(userOpHash: Hex, sessionId: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }], [userOpHash, sessionId]))
}

const p256N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

/** `r ‖ s` (64 bytes, IEEE P1363 as WebCrypto returns it) with `s` normalised to the lower half. */
export function normalizeP256Signature(raw: Uint8Array): Hex {
  if (raw.length !== 64) throw new BaseError(`Expected a 64-byte P-256 signature, got ${raw.length} bytes.`)
  const r = bytesToHex(raw.slice(0, 32))
  let s = BigInt(bytesToHex(raw.slice(32)))
  if (s > p256N / 2n) s = p256N - s
  return `${r}${s.toString(16).padStart(64, '0')}` as Hex
}

/** An in-memory {@link SessionKeyStore} (Node, tests). */
export function createMemoryKeyStore(): SessionKeyStore & { size: () => number } {
  const map = new Map<string, unknown>()
  return {
    get: async (id) => map.get(id),
    set: async (id, value) => void map.set(id, value),
    delete: async (id) => void map.delete(id),
    size: () => map.size,
  }
}

/**
 * A tiny IndexedDB key-value store (one object store). CryptoKey objects are structured-cloneable, so a
 * non-extractable private key is stored as is and never exported.
 *
 * @example
 * ```ts
 * const store = createIdbKeyStore() // database `sso-session-keys`
 * ```
 */
export function createIdbKeyStore(
  name = 'sso-session-keys',
  factory: IDBFactory = globalThis.indexedDB,
): SessionKeyStore {
  if (!factory)
    throw new BaseError('IndexedDB is not available: pass a keyStore (e.g. createMemoryKeyStore()).')
  let db: Promise<IDBDatabase> | undefined
  const open = () => {
    db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(name, 1)
      request.onupgradeneeded = () => request.result.createObjectStore('keys')
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    return db
  }
  const run = async <T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest): Promise<T> => {
    const database = await open()
    return new Promise<T>((resolve, reject) => {
      const tx = database.transaction('keys', mode)
      const request = fn(tx.objectStore('keys'))
      tx.oncomplete = () => resolve(request.result as T)
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error)
    })
  }
  return {
    get: (id) => run('readonly', (s) => s.get(id)),
    set: async (id, value) => {
      await run('readwrite', (s) => s.put(value, id))
    },
    delete: async (id) => {
      await run('readwrite', (s) => s.delete(id))
    },
  }
}

function randomId(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(16))).slice(2)
}

type StoredP256 = { kind: 'p256'; privateKey: CryptoKey; publicKey: Hex }
type StoredSecp256k1 = { kind: 'secp256k1'; privateKey: Hex }

function p256Signer(id: string, privateKey: CryptoKey, publicKey: Hex): SessionSigner {
  return {
    kind: 'p256',
    id,
    publicKey,
    async signUserOpHash(userOpHash, sessionId) {
      const digest = new Uint8Array(hexToBytes(sessionDigest(userOpHash, sessionId)))
      const raw = await crypto.subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        privateKey,
        digest as Uint8Array<ArrayBuffer>,
      )
      return normalizeP256Signature(new Uint8Array(raw))
    },
  }
}

function secp256k1Signer(id: string, privateKey: Hex): SessionSigner {
  const address: Address = privateKeyToAccount(privateKey).address
  return {
    kind: 'secp256k1',
    id,
    publicKey: address.toLowerCase() as Hex,
    async signUserOpHash(userOpHash, sessionId) {
      return sign({ hash: sessionDigest(userOpHash, sessionId), privateKey, to: 'hex' })
    },
  }
}

/**
 * Creates a WebCrypto P-256 session key (non-extractable private key) and stores it in `store`.
 *
 * @example
 * ```ts
 * const signer = await createP256SessionSigner({ store: createIdbKeyStore() })
 * signer.publicKey // 0x‖x‖y, goes into the spec
 * ```
 */
export async function createP256SessionSigner(parameters: {
  store: SessionKeyStore
}): Promise<SessionSigner> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
  ])) as CryptoKeyPair
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  const publicKey = bytesToHex(raw.slice(1)) // drop the 0x04 prefix: x ‖ y
  const id = randomId()
  await parameters.store.set(id, {
    kind: 'p256',
    privateKey: pair.privateKey,
    publicKey,
  } satisfies StoredP256)
  return p256Signer(id, pair.privateKey, publicKey)
}

/**
 * Creates a secp256k1 session key (Node, bots, tests) and stores it in `store`.
 *
 * @example
 * ```ts
 * const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
 * ```
 */
export async function createSecp256k1SessionSigner(parameters: {
  store: SessionKeyStore
  privateKey?: Hex | undefined
}): Promise<SessionSigner> {
  const privateKey = parameters.privateKey ?? generatePrivateKey()
  const id = randomId()
  await parameters.store.set(id, { kind: 'secp256k1', privateKey } satisfies StoredSecp256k1)
  return secp256k1Signer(id, privateKey)
}

/** Creates a session key of `kind` in `store` ({@link createP256SessionSigner}, {@link createSecp256k1SessionSigner}). */
export function createSessionSigner(
  kind: SessionSigner['kind'],
  store: SessionKeyStore,
): Promise<SessionSigner> {
  return kind === 'p256' ? createP256SessionSigner({ store }) : createSecp256k1SessionSigner({ store })
}

/**
 * Loads a session key created earlier (after a reload); undefined when the store no longer has it.
 *
 * @example
 * ```ts
 * const signer = await loadSessionSigner({ store, id })
 * ```
 */
export async function loadSessionSigner(parameters: {
  store: SessionKeyStore
  id: string
}): Promise<SessionSigner | undefined> {
  const stored = (await parameters.store.get(parameters.id)) as StoredP256 | StoredSecp256k1 | undefined
  if (stored?.kind === 'p256') return p256Signer(parameters.id, stored.privateKey, stored.publicKey)
  if (stored?.kind === 'secp256k1') return secp256k1Signer(parameters.id, stored.privateKey)
  return undefined
}

/** Whether this runtime can make non-extractable WebCrypto P-256 keys and store them (a browser). */
export function canUseWebCryptoKeys(): boolean {
  return (
    typeof globalThis.indexedDB !== 'undefined' &&
    typeof globalThis.crypto?.subtle?.generateKey === 'function'
  )
}
