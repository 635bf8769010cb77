/**
 * Passkeys through WebAuthn (@simplewebauthn/browser): create (sign up), sign a 32-byte challenge (userOps and
 * ERC-1271 digests), and discover a credential for log-in. ES256 only, resident key and user verification
 * required; the relying party is this auth server's host name.
 */

import { startAuthentication, startRegistration, WebAuthnError } from '@simplewebauthn/browser'
import { Errors } from '@sso/client/popup'
import {
  base64UrlToBytes,
  bytesToBase64Url,
  bytesToHex,
  hexToBytes,
  type P256PublicKey,
  parseClientData,
  parseP256PublicKey,
  parseP256Signature,
  type WebAuthnAssertion,
} from '@sso/client/webauthn'
import type { Hex } from 'viem'
import { aaguidOf, noteCreated, noteUsed } from './passkeyLabels'

/** Thrown when the passkey ceremony fails or its result can't be used. `code` 4001 = the user cancelled. */
export class PasskeyError extends Errors.RpcError {
  override name = 'PasskeyError'
  constructor(message: string, code = -32603, options: { cause?: unknown } = {}) {
    super(code, message, { ...options, details: '' })
  }
}

/** A passkey as the account knows it. */
export type Passkey = {
  id: string
  publicKey: P256PublicKey
  origin: string
  rpId: string
  /** WebAuthn user handle (base64url, random), returned by the authenticator at log-in. */
  userHandle?: string | undefined
}

const timeout = 120_000

function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length))
}

function wrap(error: unknown, what: string): PasskeyError {
  if (error instanceof PasskeyError) return error
  // NotAllowedError: the user cancelled or the ceremony timed out.
  const name =
    error instanceof WebAuthnError ? (error.cause as Error | undefined)?.name : (error as Error)?.name
  if (name === 'NotAllowedError' || name === 'AbortError')
    return new PasskeyError(`${what} was cancelled.`, 4001, { cause: error })
  return new PasskeyError(`${what} failed: ${(error as Error)?.message ?? String(error)}`, -32603, {
    cause: error,
  })
}

/** This page's relying party: host name and origin. */
export function relyingParty(): { rpId: string; origin: string } {
  return { rpId: window.location.hostname, origin: window.location.origin }
}

/**
 * Creates a new discoverable ES256 passkey. The user handle is random (the account is found on chain from the
 * credential id, so the handle carries nothing that has to be trusted).
 *
 * @example
 * ```ts
 * const passkey = await createPasskey({ userName: 'SSO account' })
 * ```
 */
export async function createPasskey(parameters: { userName: string }): Promise<Passkey> {
  const { rpId, origin } = relyingParty()
  const challenge = bytesToBase64Url(randomBytes(32))
  const userHandle = bytesToBase64Url(randomBytes(32))
  let response: Awaited<ReturnType<typeof startRegistration>>
  try {
    response = await startRegistration({
      optionsJSON: {
        challenge,
        rp: { id: rpId, name: 'SSO' },
        user: {
          id: userHandle,
          name: parameters.userName,
          displayName: parameters.userName,
        },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        authenticatorSelection: {
          residentKey: 'required',
          requireResidentKey: true,
          userVerification: 'required',
        },
        attestation: 'none',
        timeout,
      },
    })
  } catch (error) {
    throw wrap(error, 'Creating the passkey')
  }
  const clientData = JSON.parse(
    new TextDecoder().decode(base64UrlToBytes(response.response.clientDataJSON)),
  ) as {
    type?: string
    challenge?: string
    origin?: string
  }
  if (
    clientData.type !== 'webauthn.create' ||
    clientData.challenge !== challenge ||
    clientData.origin !== origin
  )
    throw new PasskeyError('The authenticator answered another registration than the one requested.')
  if (response.response.publicKeyAlgorithm !== undefined && response.response.publicKeyAlgorithm !== -7)
    throw new PasskeyError(
      `The passkey uses algorithm ${response.response.publicKeyAlgorithm}, not ES256 (-7).`,
    )
  if (!response.response.publicKey)
    throw new PasskeyError('The browser did not return the passkey public key.')
  const publicKey = parseP256PublicKey(base64UrlToBytes(response.response.publicKey))
  // Which authenticator made it (for its default name on the dashboard), when the browser tells.
  const authenticatorData = response.response.authenticatorData
  noteCreated(response.id, authenticatorData ? aaguidOf(base64UrlToBytes(authenticatorData)) : undefined)
  return { id: response.id, publicKey, origin, rpId, userHandle }
}

/** Assertion in the shape `@sso/client/account` wants, plus the credential that made it. */
export type SignedChallenge = WebAuthnAssertion & { credentialId: string; userHandle: string | undefined }

/**
 * Signs `challenge` (32 raw bytes) with a passkey: `credentialId` to pin one, or none to let the user pick a
 * discoverable credential (log-in).
 *
 * @example
 * ```ts
 * const assertion = await signChallenge(userOpHash, credentialId)
 * ```
 */
export async function signChallenge(challenge: Hex, credentialId?: string): Promise<SignedChallenge> {
  const { rpId } = relyingParty()
  let response: Awaited<ReturnType<typeof startAuthentication>>
  try {
    response = await startAuthentication({
      optionsJSON: {
        challenge: bytesToBase64Url(hexToBytes(challenge)),
        rpId,
        userVerification: 'required',
        timeout,
        ...(credentialId ? { allowCredentials: [{ id: credentialId, type: 'public-key' as const }] } : {}),
      },
    })
  } catch (error) {
    const wrapped = wrap(error, 'Signing with the passkey')
    // Log-in: the browser answers the same when the user cancels and when it has no passkey for this page.
    if (!credentialId && wrapped.code === 4001)
      throw new PasskeyError(
        `No passkey was picked: cancelled, or this device has no passkey for ${rpId} (a passkey of another sign-in page does not work here).`,
        4001,
        { cause: error },
      )
    throw wrapped
  }
  if (credentialId && response.id !== credentialId)
    throw new PasskeyError('The authenticator signed with another passkey than the account’s.')
  noteUsed(response.id)
  return {
    credentialId: response.id,
    userHandle: response.response.userHandle,
    authenticatorData: bytesToHex(base64UrlToBytes(response.response.authenticatorData)),
    clientDataJSON: new TextDecoder().decode(base64UrlToBytes(response.response.clientDataJSON)),
    signature: bytesToHex(base64UrlToBytes(response.response.signature)),
  }
}

/**
 * Verifies a WebAuthn assertion against a public key (WebCrypto ECDSA P-256 / SHA-256 over
 * `authenticatorData ‖ sha256(clientDataJSON)`), and that it is a `webauthn.get` over `challenge` from `origin`
 * for `rpId` with the UP and UV flags, under the contract's client-data rules (no `crossOrigin: true`, no
 * `topOrigin`: a framed assertion is refused here as on chain). Used at log-in: the keys are recovered from the
 * signature, the signature comes from the authenticator.
 */
export async function verifyAssertion(parameters: {
  assertion: WebAuthnAssertion
  publicKey: P256PublicKey
  challenge: Hex
  origin: string
  rpId: string
}): Promise<boolean> {
  const { assertion, publicKey, challenge, origin, rpId } = parameters
  let members: ReturnType<typeof parseClientData>
  try {
    members = parseClientData(assertion.clientDataJSON)
  } catch {
    return false
  }
  const challengeMember = members.find((m) => m.kind === 'challenge')
  const originMember = members.find((m) => m.kind === 'origin')
  if (challengeMember?.challenge !== bytesToBase64Url(hexToBytes(challenge))) return false
  if (originMember?.origin !== origin) return false
  const authenticatorData = hexToBytes(assertion.authenticatorData)
  if (authenticatorData.length < 37) return false
  const rpIdHash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(rpId)))
  if (rpIdHash.some((byte, i) => authenticatorData[i] !== byte)) return false
  const flags = authenticatorData[32] ?? 0
  if ((flags & 0x01) === 0 || (flags & 0x04) === 0) return false

  const key = await crypto.subtle.importKey(
    'raw',
    new Uint8Array([0x04, ...hexToBytes(publicKey.x), ...hexToBytes(publicKey.y)]),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  )
  const { r, s } = parseP256Signature(assertion.signature)
  const raw = new Uint8Array(
    hexToBytes(`0x${r.toString(16).padStart(64, '0')}${s.toString(16).padStart(64, '0')}`),
  )
  const clientDataHash = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(assertion.clientDataJSON)),
  )
  const data = new Uint8Array([...authenticatorData, ...clientDataHash])
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, data)
}
