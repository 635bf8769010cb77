import { p256 } from '@noble/curves/nist.js'
import { encodeAbiParameters, type Hex, keccak256, recoverAddress } from 'viem'
import { describe, expect, test } from 'vitest'
import {
  createMemoryKeyStore,
  createP256SessionSigner,
  createSecp256k1SessionSigner,
  loadSessionSigner,
  normalizeP256Signature,
  sessionDigest,
} from './SessionSigner.js'
import { hexToBytes } from './WebAuthn.js'

const userOpHash: Hex = `0x${'ab'.repeat(32)}`
const id: Hex = `0x${'cd'.repeat(32)}`
const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

describe('SessionSigner', () => {
  test('behavior: the digest is keccak256(abi.encode(userOpHash, sessionId))', () => {
    expect(sessionDigest(userOpHash, id)).toBe(
      keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }], [userOpHash, id])),
    )
  })

  test('behavior: P-256 (WebCrypto) signs sha256(digest) as 64-byte r ‖ s with low s, verifiable with the public key', async () => {
    const store = createMemoryKeyStore()
    const signer = await createP256SessionSigner({ store })
    expect(signer.kind).toBe('p256')
    expect(signer.publicKey).toMatch(/^0x[0-9a-f]{128}$/)
    for (let i = 0; i < 4; i++) {
      const hash = keccak256(`0x0${i}`)
      const signature = await signer.signUserOpHash(hash, id)
      expect(signature).toMatch(/^0x[0-9a-f]{128}$/)
      expect(BigInt(`0x${signature.slice(66)}`) <= n / 2n).toBe(true)
      const publicKey = hexToBytes(`0x04${signer.publicKey.slice(2)}`)
      // What the contract checks: P256.verify(sha256(digest), r, s, x, y); noble hashes the message with sha256.
      expect(p256.verify(hexToBytes(signature), hexToBytes(sessionDigest(hash, id)), publicKey)).toBe(true)
      expect(p256.verify(hexToBytes(signature), hexToBytes(sessionDigest(hash, userOpHash)), publicKey)).toBe(
        false,
      )
    }
  })

  test('behavior: the P-256 private key is non-extractable and survives in the store (reload)', async () => {
    const store = createMemoryKeyStore()
    const signer = await createP256SessionSigner({ store })
    const stored = (await store.get(signer.id)) as { privateKey: CryptoKey; publicKey: Hex }
    expect(stored.privateKey.extractable).toBe(false)
    expect(Object.keys(stored).sort()).toEqual(['kind', 'privateKey', 'publicKey'])
    // WebCrypto refuses to export it: DOMException InvalidAccessError (Node 20 names it InvalidAccessException).
    const refused = await crypto.subtle.exportKey('pkcs8', stored.privateKey).then(
      () => undefined,
      (error: unknown) => error as DOMException,
    )
    // (Node's own DOMException class: the test environment's global DOMException is happy-dom's.)
    expect(refused?.constructor.name).toBe('DOMException')
    expect(refused?.name).toMatch(/^InvalidAccess(Error|Exception)$/)
    expect(refused?.message).toBe('key is not extractable')
    const loaded = await loadSessionSigner({ store, id: signer.id })
    expect(loaded?.publicKey).toBe(signer.publicKey)
    const signature = await loaded!.signUserOpHash(userOpHash, id)
    expect(
      p256.verify(
        hexToBytes(signature),
        hexToBytes(sessionDigest(userOpHash, id)),
        hexToBytes(`0x04${signer.publicKey.slice(2)}`),
      ),
    ).toBe(true)
    await store.delete(signer.id)
    expect(await loadSessionSigner({ store, id: signer.id })).toBeUndefined()
  })

  test('behavior: secp256k1 signs the digest itself (65-byte r ‖ s ‖ v, no prefix)', async () => {
    const store = createMemoryKeyStore()
    const signer = await createSecp256k1SessionSigner({ store })
    expect(signer.publicKey).toMatch(/^0x[0-9a-f]{40}$/)
    const signature = await signer.signUserOpHash(userOpHash, id)
    expect(signature).toMatch(/^0x[0-9a-f]{130}$/)
    const recovered = await recoverAddress({ hash: sessionDigest(userOpHash, id), signature })
    expect(recovered.toLowerCase()).toBe(signer.publicKey)
    const loaded = await loadSessionSigner({ store, id: signer.id })
    expect(await loaded?.signUserOpHash(userOpHash, id)).toBe(signature)
  })

  test('behavior: high s is normalised; error: wrong length', () => {
    const r = new Uint8Array(32).fill(1)
    const high = hexToBytes(`0x${(n - 5n).toString(16).padStart(64, '0')}`)
    const normalized = normalizeP256Signature(new Uint8Array([...r, ...high]))
    expect(BigInt(`0x${normalized.slice(66)}`)).toBe(5n)
    expect(() => normalizeP256Signature(new Uint8Array(63))).toThrow(/64-byte/)
  })
})
