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
  type ClientDataMember,
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
  const short = shortForm(assertion.authenticatorData, members)
  if (short) return concatHex([signatureHead(credential, r, s), short])
  return encodeWebAuthnFields(
    credential,
    r,
    s,
    compactAuthenticatorData(assertion.authenticatorData, clientDataOrigin(members)),
    encodeClientDataMembers(members),
  )
}

/** The short form's format bits (docs/webauthn.md, "The short form"). */
const SHORT = { form: 0x80, crossOrigin: 0x40, http: 0x20, rpIdLength: 0x08, rpIdRange: 0x10, backedUp: 0x04 }
const SCHEMES = ['https://', 'http://'] as const

/**
 * The short form (format byte to the end of the signature) when the assertion is one browsers make for web pages:
 * 37-byte authenticatorData with flags UP UV (0x05) or UP UV BE BS (0x1d) and an rpId inside the origin, and the
 * clientDataJSON `{"type":"webauthn.get","challenge":…,"origin":"http(s)://…"}` with or without
 * `"crossOrigin":false` last. Otherwise undefined (the general form is sent).
 */
function shortForm(authenticatorData: Hex, members: readonly ClientDataMember[]): Hex | undefined {
  if (size(authenticatorData) !== 37) return undefined
  const flags = Number(BigInt(sliceHex(authenticatorData, 32, 33)))
  if (flags !== 0x05 && flags !== 0x1d) return undefined
  const [type, challenge, origin, crossOrigin, ...rest] = members
  if (type?.kind !== 'type' || challenge?.kind !== 'challenge' || origin?.kind !== 'origin' || origin.escaped)
    return undefined
  if ((crossOrigin !== undefined && crossOrigin.kind !== 'crossOrigin') || rest.length > 0) return undefined
  const scheme = SCHEMES.find((prefix) => origin.origin.startsWith(prefix))
  const text = scheme && origin.origin.slice(scheme.length)
  if (!scheme || !text || origin.origin.length > 255 || !/^[\x21-\x7e]+$/.test(text)) return undefined
  const range = rpIdRange(origin.origin, sliceHex(authenticatorData, 0, 32))
  if (!range) return undefined
  const signCount = Number(BigInt(sliceHex(authenticatorData, 33, 37)))
  const countBytes = signCount === 0 ? 0 : signCount < 0x100 ? 1 : signCount < 0x10000 ? 2 : 4
  let format =
    SHORT.form |
    (crossOrigin ? SHORT.crossOrigin : 0) |
    (scheme === 'http://' ? SHORT.http : 0) |
    (flags === 0x1d ? SHORT.backedUp : 0) |
    (countBytes === 4 ? 3 : countBytes)
  let position: number[] = []
  if (range.start !== scheme.length) {
    format |= SHORT.rpIdRange
    position = [range.start, range.length]
  } else if (range.length !== text.length) {
    format |= SHORT.rpIdLength
    position = [range.length]
  }
  return concatHex([
    numberToHex(format, { size: 1 }),
    countBytes === 0 ? '0x' : numberToHex(signCount, { size: countBytes }),
    bytesToHex(Uint8Array.from(position)),
    stringToHex(text),
  ])
}

/**
 * Reads a short form (inverse of {@link shortForm}): the 37 bytes it stands for and the clientDataJSON members, the
 * challenge member carrying `challenge` (base64url), as {@link decodeClientDataMembers} does.
 */
function readShortForm(
  short: Hex,
  challenge: string,
): { authenticatorData: Hex; members: ClientDataMember[] } {
  const bytes = hexToBytes(short)
  const format = bytes[0] ?? 0
  const countBytes = [0, 1, 2, 4][format & 3] ?? 0
  let i = 1 + countBytes
  const signCount = bytes.subarray(1, i).reduce((n, b) => n * 256 + b, 0)
  const scheme = format & SHORT.http ? 'http://' : 'https://'
  const rpIdForm = (format >> 3) & 3
  if (rpIdForm === 3) throw new InvalidWebAuthnDataError('The short form names no rpId position (form 3).')
  const position = bytes.subarray(i, i + rpIdForm)
  i += rpIdForm
  const text = new TextDecoder().decode(bytes.subarray(i))
  if (i >= bytes.length) throw new InvalidWebAuthnDataError('The short form has no origin.')
  const origin = scheme + text
  const [start, length] =
    rpIdForm === 0
      ? [scheme.length, text.length]
      : rpIdForm === 1
        ? [scheme.length, position[0] ?? 0]
        : [position[0] ?? 0, position[1] ?? 0]
  if (length === 0 || start + length > origin.length)
    throw new InvalidWebAuthnDataError("The short form's rpId names no part of the origin.")
  const members: ClientDataMember[] = [
    { kind: 'type' },
    { kind: 'challenge', challenge },
    { kind: 'origin', origin, escaped: false },
    ...(format & SHORT.crossOrigin ? [{ kind: 'crossOrigin' } as const] : []),
  ]
  return {
    authenticatorData: concatHex([
      sha256(stringToHex(origin.slice(start, start + length))),
      numberToHex(format & SHORT.backedUp ? 0x1d : 0x05, { size: 1 }),
      numberToHex(signCount, { size: 4 }),
    ]),
    members,
  }
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

/** The fixed head of every form: credential key, public key, r, s. */
function signatureHead(credential: SignatureCredential, r: bigint, s: bigint): Hex {
  return concatHex([
    credentialKey(credential.id),
    credential.publicKey.x,
    credential.publicKey.y,
    numberToHex(r, { size: 32 }),
    numberToHex(s, { size: 32 }),
  ])
}

/** The general form: the head, the uint16 authenticatorData length, authenticatorData, the member list. */
function encodeWebAuthnFields(
  credential: SignatureCredential,
  r: bigint,
  s: bigint,
  authenticatorData: Hex,
  clientData: Hex,
): Hex {
  return concatHex([
    signatureHead(credential, r, s),
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

/** Where the key, r and s lie, the byte that tells the forms apart, and the general form's fixed head. */
const X = 4
const FORM = 4 + 4 * 32
const HEAD = FORM + 2

/**
 * Decodes a WebAuthnValidator signature (inverse of {@link encodeWebAuthnSignature}), in either form. With
 * `challenge`, also rebuilds the full clientDataJSON the passkey signed. `authenticatorData` is always the bytes
 * the authenticator signed (rebuilt from a short or compact form as the validator does).
 *
 * @example
 * ```ts
 * const { r, s, clientDataJSON } = decodeWebAuthnSignature(signature, userOpHash)
 * ```
 */
export function decodeWebAuthnSignature(signature: Hex, challenge?: Hex) {
  if (size(signature) <= FORM + 1)
    throw new InvalidWebAuthnDataError(`A WebAuthn signature is more than ${FORM + 1} bytes.`)
  const word = (index: number) => sliceHex(signature, X + index * 32, X + index * 32 + 32)
  const head = { credentialKey: sliceHex(signature, 0, X), x: word(0), y: word(1), r: word(2), s: word(3) }
  const challengeText = challenge === undefined ? '' : bytesToBase64Url(hexToBytes(challenge))
  const sent =
    Number(BigInt(sliceHex(signature, FORM, FORM + 1))) & SHORT.form
      ? {
          form: 'short' as const,
          sentAuthenticatorData: undefined,
          clientData: undefined,
          ...readShortForm(sliceHex(signature, FORM), challengeText),
        }
      : readGeneralForm(signature, challengeText)
  return {
    ...head,
    ...sent,
    clientDataJSON: challenge === undefined ? undefined : serializeClientData(sent.members),
  }
}

/** The general form after the head: authenticatorData as sent and as signed, and the member list. */
function readGeneralForm(signature: Hex, challenge: string) {
  if (size(signature) < HEAD)
    throw new InvalidWebAuthnDataError(`A WebAuthn signature is at least ${HEAD} bytes.`)
  const authenticatorLength = Number(BigInt(sliceHex(signature, FORM, HEAD)))
  if (HEAD + authenticatorLength > size(signature))
    throw new InvalidWebAuthnDataError('The authenticatorData length runs past the signature.')
  if (authenticatorLength < 37 && authenticatorLength !== 3 && authenticatorLength !== 7)
    throw new InvalidWebAuthnDataError(
      'authenticatorData is 37 bytes or more, or the 3- or 7-byte compact form.',
    )
  const sentAuthenticatorData = sliceHex(signature, HEAD, HEAD + authenticatorLength)
  const clientData =
    HEAD + authenticatorLength === size(signature) ? '0x' : sliceHex(signature, HEAD + authenticatorLength)
  const members = decodeClientDataMembers(clientData, challenge)
  return {
    form: 'general' as const,
    // What the authenticator signed: the compact form rebuilt as the validator does.
    authenticatorData: fullAuthenticatorData(sentAuthenticatorData, clientDataOrigin(members)),
    sentAuthenticatorData,
    clientData,
    members,
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
