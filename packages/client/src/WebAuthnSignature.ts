/**
 * The WebAuthnValidator's signatures (packages/contracts/src/WebAuthnValidator.sol, packages/contracts/README.md):
 * a passkey assertion packed for the contract, its inverse, the proof of possession a passkey signs to join an
 * account, and the gas-estimation stub.
 */
import {
  type Address,
  concatHex,
  encodeAbiParameters,
  type Hex,
  keccak256,
  numberToHex,
  sha256,
  size,
  sliceHex,
  stringToHex,
} from 'viem'
import {
  clientDataChallenge,
  clientDataOrigin,
  decodeClientDataMembers,
  encodeClientDataMembers,
  parseClientData,
  serializeClientData,
} from './ClientData.js'
import type { SsoCredential } from './SsoAccount.js'
import {
  base64UrlToBytes,
  bytesToBase64Url,
  bytesToHex,
  hexToBytes,
  InvalidWebAuthnDataError,
  parseP256Signature,
  type WebAuthnAssertion,
} from './WebAuthn.js'

/** The credential fields the signature carries. */
export type SignatureCredential = Pick<SsoCredential, 'id' | 'publicKey'>

/**
 * Encodes a passkey assertion as the WebAuthnValidator signature (the userOp signature, or the part after the
 * validator address in an ERC-1271 signature), packed: `bytes4 credentialKey ‖ bytes32 x ‖ bytes32 y ‖
 * bytes32 r ‖ bytes32 s ‖ uint16 authenticatorData length ‖ authenticatorData ‖ clientData` with
 * `credentialKey` the first 4 bytes of `keccak256(rawCredentialId)` ({@link credentialKey}), low-s `s`, and `clientData` the member list the contract
 * rebuilds clientDataJSON from (docs/webauthn.md). authenticatorData goes in its compact form
 * (`rpIdStart ‖ rpIdLength ‖ flags ‖ signCount`, 7 bytes instead of 37) when it has no extensions and its
 * rpIdHash is the sha256 of a part of the origin's host, as it is for passkeys of web pages. Throws {@link InvalidWebAuthnDataError} when
 * clientDataJSON can't be expressed (a cross-origin assertion, another type, unexpected members) or, with
 * `challenge`, when it signs another challenge.
 *
 * @example
 * ```ts
 * const signature = encodeWebAuthnSignature({ credential, assertion: await sign(userOpHash) })
 * ```
 */
export function encodeWebAuthnSignature(parameters: {
  credential: SignatureCredential
  assertion: WebAuthnAssertion
  /** When given, the challenge in clientDataJSON must be base64url(challenge). */
  challenge?: Hex | undefined
}): Hex {
  const { credential, assertion } = parameters
  const { r, s } = parseP256Signature(assertion.signature)
  const members = parseClientData(assertion.clientDataJSON)
  if (serializeClientData(members) !== assertion.clientDataJSON)
    throw new InvalidWebAuthnDataError('clientDataJSON does not rebuild from its members.')
  if (
    parameters.challenge !== undefined &&
    clientDataChallenge(members) !== bytesToBase64Url(hexToBytes(parameters.challenge))
  )
    throw new InvalidWebAuthnDataError('The passkey signed another challenge than the one requested.')
  return encodeWebAuthnFields(
    credential,
    r,
    s,
    compactAuthenticatorData(assertion.authenticatorData, clientDataOrigin(members)),
    encodeClientDataMembers(members),
  )
}

/**
 * The compact authenticatorData (`uint8 rpIdStart ‖ uint8 rpIdLength ‖ bytes1 flags ‖ uint32 signCount`) when the
 * validator can rebuild `authenticatorData` from it: exactly 37 bytes (no extensions) whose rpIdHash is the sha256
 * of `origin[rpIdStart : rpIdStart + rpIdLength]`, the host or one of its suffixes. Otherwise `authenticatorData`
 * as it is.
 */
function compactAuthenticatorData(authenticatorData: Hex, origin: string | undefined): Hex {
  if (size(authenticatorData) !== 37 || origin === undefined) return authenticatorData
  const range = rpIdRange(origin, sliceHex(authenticatorData, 0, 32))
  if (range === undefined) return authenticatorData
  return concatHex([
    numberToHex(range.start, { size: 1 }),
    numberToHex(range.length, { size: 1 }),
    sliceHex(authenticatorData, 32),
  ])
}

/** Where in `origin` (`scheme://host[:port]`) lies the rpId whose sha256 is `rpIdHash`: the host or a suffix. */
function rpIdRange(origin: string, rpIdHash: Hex): { start: number; length: number } | undefined {
  const hostStart = origin.indexOf('://') + 3
  if (hostStart < 3 || origin.length > 255) return undefined
  const portAt = origin.indexOf(':', hostStart)
  const hostEnd = portAt === -1 ? origin.length : portAt
  for (let start = hostStart; start < hostEnd; start++) {
    if (start !== hostStart && origin[start - 1] !== '.') continue
    if (sha256(stringToHex(origin.slice(start, hostEnd))) === rpIdHash)
      return { start, length: hostEnd - start }
  }
  return undefined
}

/** The 37-byte authenticatorData a compact one (3 or 7 bytes) stands for; other lengths as they are. */
function fullAuthenticatorData(authenticatorData: Hex, origin: string | undefined): Hex {
  const length = size(authenticatorData)
  if (length !== 3 && length !== 7) return authenticatorData
  const start = Number(BigInt(sliceHex(authenticatorData, 0, 1)))
  const rpIdLength = Number(BigInt(sliceHex(authenticatorData, 1, 2)))
  if (origin === undefined || rpIdLength === 0 || start + rpIdLength > origin.length)
    throw new InvalidWebAuthnDataError('The compact authenticatorData names no part of the origin.')
  return concatHex([
    sha256(stringToHex(origin.slice(start, start + rpIdLength))),
    sliceHex(authenticatorData, 2, 3),
    length === 7 ? sliceHex(authenticatorData, 3, 7) : '0x00000000',
  ])
}

function encodeWebAuthnFields(
  credential: SignatureCredential,
  r: bigint,
  s: bigint,
  authenticatorData: Hex,
  clientData: Hex,
): Hex {
  return concatHex([
    credentialKey(credential.id),
    credential.publicKey.x,
    credential.publicKey.y,
    numberToHex(r, { size: 32 }),
    numberToHex(s, { size: 32 }),
    numberToHex(size(authenticatorData), { size: 2 }),
    authenticatorData,
    clientData,
  ])
}

/** `keccak256` of the raw credential id (how the validator's functions and events name a passkey). `id` is base64url. */
export function credentialIdHash(id: string): Hex {
  return keccak256(base64UrlToBytes(id))
}

/** The first 4 bytes of {@link credentialIdHash}: what a signature names its passkey by (the validator's storage key). */
export function credentialKey(id: string): Hex {
  return sliceHex(credentialIdHash(id), 0, 4)
}

/** Where the key, r, s and the uint16 authenticatorData length lie in a signature; the fixed head's length. */
const X = 4
const AUTH_LENGTH = 4 + 4 * 32
const HEAD = AUTH_LENGTH + 2

/**
 * Decodes a WebAuthnValidator signature (inverse of {@link encodeWebAuthnSignature}). With `challenge`, also
 * rebuilds the full clientDataJSON the passkey signed.
 *
 * @example
 * ```ts
 * const { r, s, clientDataJSON } = decodeWebAuthnSignature(signature, userOpHash)
 * ```
 */
export function decodeWebAuthnSignature(signature: Hex, challenge?: Hex) {
  if (size(signature) < HEAD + 3)
    throw new InvalidWebAuthnDataError(`A WebAuthn signature is at least ${HEAD + 3} bytes.`)
  const word = (index: number) => sliceHex(signature, X + index * 32, X + index * 32 + 32)
  const [x, y, r, s] = [word(0), word(1), word(2), word(3)]
  const authenticatorLength = Number(BigInt(sliceHex(signature, AUTH_LENGTH, HEAD)))
  if (HEAD + authenticatorLength > size(signature))
    throw new InvalidWebAuthnDataError('The authenticatorData length runs past the signature.')
  if (authenticatorLength < 37 && authenticatorLength !== 3 && authenticatorLength !== 7)
    throw new InvalidWebAuthnDataError(
      'authenticatorData is 37 bytes or more, or the 3- or 7-byte compact form.',
    )
  const sentAuthenticatorData = sliceHex(signature, HEAD, HEAD + authenticatorLength)
  const clientData =
    HEAD + authenticatorLength === size(signature) ? '0x' : sliceHex(signature, HEAD + authenticatorLength)
  const members = decodeClientDataMembers(
    clientData,
    challenge === undefined ? '' : bytesToBase64Url(hexToBytes(challenge)),
  )
  const clientDataJSON = challenge === undefined ? undefined : serializeClientData(members)
  // What the authenticator signed: the compact form rebuilt as the validator does.
  const authenticatorData = fullAuthenticatorData(sentAuthenticatorData, clientDataOrigin(members))
  return {
    credentialKey: sliceHex(signature, 0, X),
    x,
    y,
    r,
    s,
    authenticatorData,
    sentAuthenticatorData,
    clientData,
    members,
    clientDataJSON,
  }
}

/** Type hash of the proof of possession a passkey signs to join an account (WebAuthnValidator). */
export const registrationTypeHash = keccak256(
  stringToHex(
    'SsoPasskeyRegistration(address validator,address account,bytes32 credentialIdHash,uint256 nonce)',
  ),
)

/**
 * The challenge a passkey signs to join `account` (`WebAuthnValidator.registrationChallenge`): it names the
 * credential id and the passkey's registration nonce on that account (`registrationNonce`, 0 until the passkey
 * is removed from it), and no chain id, so the same proof holds on every chain.
 *
 * @example
 * ```ts
 * const challenge = registrationChallenge({ webAuthnValidator, account, credentialId: credential.id })
 * const proof = encodeWebAuthnSignature({ credential, assertion: await sign(challenge) })
 * ```
 */
export function registrationChallenge(parameters: {
  webAuthnValidator: Address
  account: Address
  /** base64url credential id of the joining passkey. */
  credentialId: string
  /** `WebAuthnValidator.registrationNonce(account, credentialId)`; default 0 (never removed from the account). */
  nonce?: bigint | undefined
}): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'address' },
        { type: 'address' },
        { type: 'bytes32' },
        { type: 'uint256' },
      ],
      [
        registrationTypeHash,
        parameters.webAuthnValidator,
        parameters.account,
        keccak256(bytesToHex(base64UrlToBytes(parameters.credentialId))),
        parameters.nonce ?? 0n,
      ],
    ),
  )
}

/**
 * A dummy signature for gas estimation that runs the same validation path as a real one: the real credential
 * key and public key, the compact authenticatorData naming the real rpId (the full 37 bytes when the rpId is not
 * part of the origin) with UP+UV flags, a member list with the right
 * origin and Chrome's occasional extra member (so the stub is never shorter than a real signature and
 * preVerificationGas is not under-estimated), in-range low-s r/s. The validator runs every check and the P-256
 * precompile, then fails cleanly (SIG_VALIDATION_FAILED).
 *
 * @example
 * ```ts
 * const stub = dummySignature(credential)
 * ```
 */
export function dummySignature(
  credential: SignatureCredential & Pick<SsoCredential, 'origin' | 'rpId'>,
): Hex {
  const rpId = credential.rpId ?? new URL(credential.origin).hostname
  const authenticatorData = concatHex([sha256(stringToHex(rpId)), '0x05', '0x00000001'])
  const members = encodeClientDataMembers([
    { kind: 'type' },
    { kind: 'challenge', challenge: '' },
    { kind: 'origin', origin: credential.origin, escaped: false },
    { kind: 'crossOrigin' },
    {
      kind: 'string',
      key: 'other_keys_can_be_added_here',
      value: 'do not compare clientDataJSON against a template. See https://goo.gl/yabPex',
    },
  ])
  return encodeWebAuthnFields(
    credential,
    BigInt(`0x${'7f'.repeat(32)}`),
    BigInt(`0x${'3f'.repeat(32)}`),
    compactAuthenticatorData(authenticatorData, credential.origin),
    members,
  )
}
