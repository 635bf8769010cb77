/**
 * A software passkey for tests and benchmarks: a @noble/curves P-256 key that produces WebAuthn-format
 * assertions exactly like a browser authenticator (authenticatorData with UP+UV, clientDataJSON with the
 * base64url challenge, DER signature with whatever s the signer produced — high-s included).
 */
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from 'viem/utils'
import {
  bytesToBase64Url,
  bytesToHex,
  type Hex,
  hexToBytes,
  type P256PublicKey,
  type WebAuthnAssertion,
} from '../WebAuthn.js'

export type TestPasskeyOptions = {
  /** 32-byte P-256 private key (random when omitted). */
  privateKey?: Hex | undefined
  /** Credential id, base64url (random 16 bytes when omitted). */
  credentialId?: string | undefined
  /** Origin written into clientDataJSON. Default `http://localhost:3002` (the auth server). */
  origin?: string | undefined
  /** Relying party id hashed into authenticatorData. Default `localhost`. */
  rpId?: string | undefined
  /** Authenticator flags byte. Default 0x05 (UP | UV). */
  flags?: number | undefined
}

export type TestPasskey = {
  /** The credential as the account needs it (`toSsoAccount({ credential })`). */
  credential: { id: string; publicKey: P256PublicKey; origin: string; rpId: string }
  /** The private key (hex), to rebuild the same passkey. */
  privateKey: Hex
  /** Signs `challenge` (32 bytes, hex) like `navigator.credentials.get({ publicKey: { challenge } })`. */
  sign(challenge: Hex): Promise<WebAuthnAssertion>
}

/**
 * Creates a software passkey.
 *
 * @example
 * ```ts
 * import { createTestPasskey } from '@sso/client/testing'
 * const passkey = createTestPasskey()
 * const account = await toSsoAccount({ client, contracts, credential: passkey.credential, sign: passkey.sign })
 * ```
 */
export function createTestPasskey(options: TestPasskeyOptions = {}): TestPasskey {
  const secretKey = options.privateKey ? hexToBytes(options.privateKey) : p256.utils.randomSecretKey()
  const publicKey = p256.getPublicKey(secretKey, false)
  const origin = options.origin ?? 'http://localhost:3002'
  const rpId = options.rpId ?? 'localhost'
  const flags = options.flags ?? 0x05
  const credentialId = options.credentialId ?? bytesToBase64Url(crypto.getRandomValues(new Uint8Array(16)))
  const rpIdHash = hexToBytes(sha256(new TextEncoder().encode(rpId)))
  let counter = 0

  return {
    credential: {
      id: credentialId,
      publicKey: { x: bytesToHex(publicKey.subarray(1, 33)), y: bytesToHex(publicKey.subarray(33, 65)) },
      origin,
      rpId,
    },
    privateKey: bytesToHex(secretKey),
    async sign(challenge) {
      counter++
      const authenticatorData = new Uint8Array(37)
      authenticatorData.set(rpIdHash, 0)
      authenticatorData[32] = flags
      new DataView(authenticatorData.buffer).setUint32(33, counter)
      const clientDataJSON = JSON.stringify({
        type: 'webauthn.get',
        challenge: bytesToBase64Url(hexToBytes(challenge)),
        origin,
        crossOrigin: false,
      })
      const clientDataHash = hexToBytes(sha256(new TextEncoder().encode(clientDataJSON)))
      const message = new Uint8Array(authenticatorData.length + 32)
      message.set(authenticatorData, 0)
      message.set(clientDataHash, authenticatorData.length)
      // Like a real authenticator: sha256 prehash, no low-s normalization, DER output.
      const signature = p256.sign(message, secretKey, { prehash: true, lowS: false, format: 'der' })
      return {
        authenticatorData: bytesToHex(authenticatorData),
        clientDataJSON,
        signature: bytesToHex(signature),
      }
    },
  }
}
