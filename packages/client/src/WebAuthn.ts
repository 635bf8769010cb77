/**
 * WebAuthn assertion -> on-chain signature pieces for the WebAuthnValidator (OpenZeppelin `WebAuthn.WebAuthnAuth`
 * fields): low-s `r`/`s`, `challengeIndex` / `typeIndex` into `clientDataJSON`, `authenticatorData`,
 * `clientDataJSON`. The exact byte layout the validator expects is in packages/contracts/README.md and is built by
 * {@link encodeWebAuthnSignature}.
 */
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from 'viem'
import { BaseError } from './Errors.js'

export type Hex = `0x${string}`

/** What a passkey returns for `navigator.credentials.get()` (the parts the contract needs). */
export type WebAuthnAssertion = {
  /** `response.authenticatorData` (rpIdHash ‖ flags ‖ signCount ‖ …). */
  authenticatorData: Hex
  /** `response.clientDataJSON`, decoded as UTF-8 text. */
  clientDataJSON: string
  /** `response.signature`: ASN.1 DER (what browsers return) or raw 64-byte `r ‖ s`. */
  signature: Hex
}

/** A P-256 public key as affine coordinates (32 bytes each). */
export type P256PublicKey = { x: Hex; y: Hex }

/** P-256 group order. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

/** Thrown when a WebAuthn signature, key or client data can't be parsed. */
export class InvalidWebAuthnDataError extends BaseError {
  override name = 'InvalidWebAuthnDataError'
}

/**
 * Parses a P-256 signature in DER (browser format) or raw `r ‖ s` (64 bytes) and returns low-s `r`, `s`
 * (s > n/2 is replaced by n - s: the validator rejects high-s, like OZ `P256`).
 *
 * @example
 * ```ts
 * const { r, s } = parseP256Signature(assertion.signature)
 * ```
 */
export function parseP256Signature(signature: Hex | Uint8Array): { r: bigint; s: bigint } {
  const bytes = typeof signature === 'string' ? hexToBytes(signature) : signature
  let r: bigint
  let s: bigint
  if (bytes.length === 64) {
    r = bytesToBigInt(bytes.subarray(0, 32))
    s = bytesToBigInt(bytes.subarray(32, 64))
  } else {
    ;({ r, s } = parseDer(bytes))
  }
  if (r <= 0n || r >= P256_N || s <= 0n || s >= P256_N)
    throw new InvalidWebAuthnDataError('P-256 signature values are out of range.')
  return { r, s: normalizeS(s) }
}

/**
 * Returns the low-s form of `s`.
 *
 * @example
 * ```ts
 * normalizeS(P256_N - 1n) // 1n
 * ```
 */
export function normalizeS(s: bigint): bigint {
  return s > P256_N / 2n ? P256_N - s : s
}

/**
 * The public keys an assertion's signature can come from (ECDSA public key recovery: two candidates, one of them
 * the passkey's). Log-in uses it to find the account from one assertion: an account's address derives from its
 * first passkey's key (see docs/webauthn.md). A second assertion tells the two apart where the chain can't.
 *
 * @example
 * ```ts
 * const [a, b] = recoverP256PublicKeys(assertion)
 * ```
 */
export function recoverP256PublicKeys(assertion: WebAuthnAssertion): P256PublicKey[] {
  const { r, s } = parseP256Signature(assertion.signature)
  const clientDataHash = sha256(new TextEncoder().encode(assertion.clientDataJSON), 'bytes')
  const message = new Uint8Array([...hexToBytes(assertion.authenticatorData), ...clientDataHash])
  const messageHash = sha256(message, 'bytes')
  const keys: P256PublicKey[] = []
  for (const bit of [0, 1]) {
    try {
      const point = new p256.Signature(r, s).addRecoveryBit(bit).recoverPublicKey(messageHash)
      const bytes = point.toBytes(false)
      keys.push({ x: bytesToHex(bytes.subarray(1, 33)), y: bytesToHex(bytes.subarray(33, 65)) })
    } catch {
      // No point with this x-coordinate parity: one candidate less.
    }
  }
  if (keys.length === 0) throw new InvalidWebAuthnDataError('No public key matches this P-256 signature.')
  return keys
}

/**
 * Finds the byte offsets of `"challenge":"` and `"type":"` in `clientDataJSON` (what OZ `WebAuthn.verify` reads).
 *
 * @example
 * ```ts
 * findClientDataIndices('{"type":"webauthn.get","challenge":"…"}') // { typeIndex: 1, challengeIndex: 23 }
 * ```
 */
export function findClientDataIndices(clientDataJSON: string): { challengeIndex: number; typeIndex: number } {
  const bytes = new TextEncoder().encode(clientDataJSON)
  const challengeIndex = indexOf(bytes, new TextEncoder().encode('"challenge":"'))
  const typeIndex = indexOf(bytes, new TextEncoder().encode('"type":"'))
  if (challengeIndex < 0 || typeIndex < 0)
    throw new InvalidWebAuthnDataError('clientDataJSON has no "challenge" or "type" member.')
  return { challengeIndex, typeIndex }
}

/** The DER header of a P-256 SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, a 66-byte BIT STRING, 0x04. */
const p256SpkiHeader = '3059301306072a8648ce3d020106082a8648ce3d03010703420004'

/**
 * Reads a P-256 public key from SPKI DER (`response.getPublicKey()`: the P-256 header, then x and y), an
 * uncompressed point (`0x04 ‖ x ‖ y`) or raw `x ‖ y`. Another curve's or algorithm's key, and a point that is not on
 * the curve, are refused here: the validator would store it and no signature could ever verify.
 *
 * @example
 * ```ts
 * const publicKey = parseP256PublicKey(bytesToHex(new Uint8Array(response.getPublicKey())))
 * ```
 */
export function parseP256PublicKey(key: Hex | Uint8Array): P256PublicKey {
  const bytes = typeof key === 'string' ? hexToBytes(key) : key
  const header = bytesToHex(bytes.subarray(0, p256SpkiHeader.length / 2)).slice(2)
  let xy: Uint8Array
  if (bytes.length === 91 && header === p256SpkiHeader) xy = bytes.subarray(27, 91)
  else if (bytes.length === 65 && bytes[0] === 0x04) xy = bytes.subarray(1)
  else if (bytes.length === 64) xy = bytes
  else throw new InvalidWebAuthnDataError(`Unsupported P-256 public key encoding (${bytes.length} bytes).`)
  const point = new Uint8Array(65)
  point[0] = 0x04
  point.set(xy, 1)
  try {
    p256.Point.fromBytes(point).assertValidity()
  } catch {
    throw new InvalidWebAuthnDataError('The public key is not a point on the P-256 curve.')
  }
  return { x: bytesToHex(xy.subarray(0, 32)), y: bytesToHex(xy.subarray(32, 64)) }
}

// base64url stays on atob/btoa: ox's `Base64` (viem's own dependency) adds 1.4 KB gzip to the account entry
// (63.2 -> 64.6 KB, `pnpm --filter @sso/client size`) and decodes any string without refusing a bad one.

/** base64url (no padding) -> bytes, e.g. a WebAuthn credential id. */
export function base64UrlToBytes(value: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new InvalidWebAuthnDataError('Not a base64url string.')
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (value.length % 4)) % 4)
  const binary = atob(base64)
  return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

/** bytes -> base64url without padding (the WebAuthn `challenge` and credential id format). */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

// ---------------------------------------------------------------------------------------------------------------
// Small byte helpers. The DER parser stays here: @noble/curves' (`Signature.fromBytes(bytes, 'der')`) adds ~15 KB
// gzip to the account entry (measured with `pnpm --filter @sso/client size`).

export function hexToBytes(hex: Hex): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex))
    throw new InvalidWebAuthnDataError(`Not an even-length hex string: ${hex}`)
  const out = new Uint8Array((hex.length - 2) / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 + i * 2, 4 + i * 2), 16)
  return out
}

export function bytesToHex(bytes: Uint8Array): Hex {
  let hex = '0x'
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return hex as Hex
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(bytesToHex(bytes))
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

function parseDer(bytes: Uint8Array): { r: bigint; s: bigint } {
  const fail = () => new InvalidWebAuthnDataError('Malformed DER P-256 signature.')
  let offset = 0
  const read = () => {
    const byte = bytes[offset++]
    if (byte === undefined) throw fail()
    return byte
  }
  const readLength = () => {
    const first = read()
    if (first < 0x80) return first
    if (first !== 0x81) throw fail()
    return read()
  }
  const readInteger = () => {
    if (read() !== 0x02) throw fail()
    const length = readLength()
    if (length === 0 || length > 33 || offset + length > bytes.length) throw fail()
    const value = bytes.subarray(offset, offset + length)
    offset += length
    return bytesToBigInt(value)
  }
  if (read() !== 0x30) throw fail()
  const length = readLength()
  if (offset + length !== bytes.length) throw fail()
  const r = readInteger()
  const s = readInteger()
  if (offset !== bytes.length) throw fail()
  return { r, s }
}

export * from './ClientData.js'
