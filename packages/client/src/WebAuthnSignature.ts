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
 * validator address in an ERC-1271 signature), packed: `bytes32 credentialIdHash ‖ bytes32 x ‖ bytes32 y ‖
 * bytes32 r ‖ bytes32 s ‖ uint16 authenticatorData length ‖ authenticatorData ‖ clientData` with
 * `credentialIdHash = keccak256(rawCredentialId)`, low-s `s`, and `clientData` the member list the contract
 * rebuilds clientDataJSON from (docs/webauthn.md). Throws {@link InvalidWebAuthnDataError} when
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
  return encodeWebAuthnFields(credential, r, s, assertion.authenticatorData, encodeClientDataMembers(members))
}

function encodeWebAuthnFields(
  credential: SignatureCredential,
  r: bigint,
  s: bigint,
  authenticatorData: Hex,
  clientData: Hex,
): Hex {
  return concatHex([
    credentialIdHash(credential.id),
    credential.publicKey.x,
    credential.publicKey.y,
    numberToHex(r, { size: 32 }),
    numberToHex(s, { size: 32 }),
    numberToHex(size(authenticatorData), { size: 2 }),
    authenticatorData,
    clientData,
  ])
}

/** `keccak256` of the raw credential id (the validator's storage key). `id` is base64url. */
export function credentialIdHash(id: string): Hex {
  return keccak256(base64UrlToBytes(id))
}

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
  if (size(signature) < 0xa2 + 37)
    throw new InvalidWebAuthnDataError(`A WebAuthn signature is at least ${0xa2 + 37} bytes.`)
  const word = (index: number) => sliceHex(signature, index * 32, index * 32 + 32)
  const [credentialIdHash, x, y, r, s] = [word(0), word(1), word(2), word(3), word(4)]
  const authenticatorLength = Number(BigInt(sliceHex(signature, 0xa0, 0xa2)))
  if (0xa2 + authenticatorLength > size(signature))
    throw new InvalidWebAuthnDataError('The authenticatorData length runs past the signature.')
  const authenticatorData = sliceHex(signature, 0xa2, 0xa2 + authenticatorLength)
  const clientData =
    0xa2 + authenticatorLength === size(signature) ? '0x' : sliceHex(signature, 0xa2 + authenticatorLength)
  const members = decodeClientDataMembers(
    clientData,
    challenge === undefined ? '' : bytesToBase64Url(hexToBytes(challenge)),
  )
  const clientDataJSON = challenge === undefined ? undefined : serializeClientData(members)
  return { credentialIdHash, x, y, r, s, authenticatorData, clientData, members, clientDataJSON }
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
 * id hash and key, authenticatorData with the real rpIdHash and UP+UV flags, a member list with the right
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
    authenticatorData,
    members,
  )
}
