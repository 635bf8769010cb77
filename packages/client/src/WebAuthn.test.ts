import { p256 } from '@noble/curves/nist.js'
import { sha256 } from 'viem/utils'
import { describe, expect, test } from 'vitest'
import { createTestPasskey } from './testing/index.js'
import {
  base64UrlToBytes,
  bytesToBase64Url,
  bytesToHex,
  findClientDataIndices,
  hexToBytes,
  InvalidWebAuthnDataError,
  normalizeS,
  P256_N,
  parseP256PublicKey,
  parseP256Signature,
} from './WebAuthn.js'

const challenge = `0x${'5a'.repeat(32)}` as const

function toCompact(r: bigint, s: bigint) {
  return hexToBytes(`0x${r.toString(16).padStart(64, '0')}${s.toString(16).padStart(64, '0')}`)
}

describe('WebAuthn', () => {
  test('behavior: the test passkey produces browser-format assertions that verify', async () => {
    const passkey = createTestPasskey({ origin: 'http://localhost:3002', rpId: 'localhost' })
    const assertion = await passkey.sign(challenge)
    const client = JSON.parse(assertion.clientDataJSON)
    expect(client).toEqual({
      type: 'webauthn.get',
      challenge: bytesToBase64Url(hexToBytes(challenge)),
      origin: 'http://localhost:3002',
      crossOrigin: false,
    })
    const authData = hexToBytes(assertion.authenticatorData)
    expect(authData).toHaveLength(37)
    expect(bytesToHex(authData.subarray(0, 32))).toBe(sha256(new TextEncoder().encode('localhost')))
    expect(authData[32]).toBe(0x05)
    expect(hexToBytes(assertion.signature)[0]).toBe(0x30) // DER

    const { r, s } = parseP256Signature(assertion.signature)
    expect(s <= P256_N / 2n).toBe(true)
    const message = new Uint8Array([
      ...authData,
      ...hexToBytes(sha256(new TextEncoder().encode(assertion.clientDataJSON))),
    ])
    const publicKey = hexToBytes(
      `0x04${passkey.credential.publicKey.x.slice(2)}${passkey.credential.publicKey.y.slice(2)}`,
    )
    expect(p256.verify(toCompact(r, s), message, publicKey, { prehash: true, lowS: true })).toBe(true)
  })

  test('behavior: high-s signatures are normalized to low-s (and still verify)', async () => {
    const passkey = createTestPasskey()
    let sawHigh = false
    for (let i = 0; i < 16; i++) {
      const assertion = await passkey.sign(challenge)
      const der = hexToBytes(assertion.signature)
      const raw = p256.Signature.fromBytes(der, 'der')
      if (raw.s > P256_N / 2n) sawHigh = true
      const { r, s } = parseP256Signature(assertion.signature)
      expect(r).toBe(raw.r)
      expect(s).toBe(normalizeS(raw.s))
      expect(s <= P256_N / 2n).toBe(true)
      // raw r||s input gives the same answer
      expect(parseP256Signature(toCompact(raw.r, raw.s))).toEqual({ r, s })
    }
    expect(sawHigh).toBe(true) // 16 draws: a high-s one is ~certain (1 - 2^-16)
  })

  test('behavior: client data indices point at "challenge" and "type"', () => {
    const json = '{"type":"webauthn.get","challenge":"abc","origin":"http://x"}'
    const { challengeIndex, typeIndex } = findClientDataIndices(json)
    expect(json.slice(typeIndex, typeIndex + 21)).toBe('"type":"webauthn.get"')
    expect(json.slice(challengeIndex, challengeIndex + 13)).toBe('"challenge":"')
    // byte offsets, not UTF-16 offsets
    const unicode = '{"origin":"é","type":"webauthn.get","challenge":"x"}'
    expect(unicode.indexOf('"type"')).toBe(14)
    expect(findClientDataIndices(unicode).typeIndex).toBe(15)
  })

  test('behavior: public keys parse from SPKI, uncompressed and raw forms', () => {
    const passkey = createTestPasskey()
    const { x, y } = passkey.credential.publicKey
    const raw = `0x${x.slice(2)}${y.slice(2)}` as const
    const spkiPrefix = '0x3059301306072a8648ce3d020106082a8648ce3d03010703420004'
    expect(parseP256PublicKey(`${spkiPrefix}${raw.slice(2)}`)).toEqual({ x, y })
    expect(parseP256PublicKey(`0x04${raw.slice(2)}`)).toEqual({ x, y })
    expect(parseP256PublicKey(raw)).toEqual({ x, y })
    expect(base64UrlToBytes(bytesToBase64Url(new Uint8Array([251, 255, 0])))).toEqual(
      new Uint8Array([251, 255, 0]),
    )
  })

  test('error: malformed signatures, keys and client data are typed errors', () => {
    for (const bad of [
      '0x',
      '0x3000',
      '0x30060201010201',
      `0x${'00'.repeat(64)}`,
      `0x${'ff'.repeat(64)}`,
      '0x123',
    ] as const)
      expect(() => parseP256Signature(bad), bad).toThrow(InvalidWebAuthnDataError)
    expect(() => parseP256PublicKey('0x1234')).toThrow(InvalidWebAuthnDataError)
    // A 91-byte SPKI of another curve (secp256k1's OID in the header), and a point off the curve.
    const { x, y } = createTestPasskey().credential.publicKey
    const k1Spki =
      `0x3059301306072a8648ce3d020106082a8648ce3d03010a03420004${x.slice(2)}${y.slice(2)}` as const
    expect(() => parseP256PublicKey(k1Spki)).toThrow('Unsupported P-256 public key encoding (91 bytes).')
    const offCurve = `0x${x.slice(2)}${(BigInt(y) ^ 1n).toString(16).padStart(64, '0')}` as const
    expect(() => parseP256PublicKey(offCurve)).toThrow('The public key is not a point on the P-256 curve.')
    expect(() => findClientDataIndices('{"type":"webauthn.get"}')).toThrow(InvalidWebAuthnDataError)
    expect(() => base64UrlToBytes('a+b')).toThrow(InvalidWebAuthnDataError)
  })
})
