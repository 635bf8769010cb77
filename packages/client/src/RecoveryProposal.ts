/**
 * A guardian recovery's proposal (the passkey it adds, with its proof of possession), its id and the EIP-712
 * typed data guardians sign (docs/recovery.md). Re-exported by `@sso/client/recovery`.
 */
import {
  type Address,
  getAddress,
  type Hex,
  hashStruct,
  isAddress,
  isHex,
  size,
  sliceHex,
  type TypedDataDefinition,
  zeroAddress,
} from 'viem'
import { BaseError } from './Errors.js'
import type { SsoCredential, SsoSign } from './SsoAccount.js'
import { base64UrlToBytes, bytesToHex } from './WebAuthn.js'
import { credentialKey, encodeWebAuthnSignature, registrationChallenge } from './WebAuthnSignature.js'

/** The GuardianExecutor's bounds (its constants; docs/recovery.md). Delays and the window in seconds. */
export const recoveryBounds = {
  minDelay: 3_600n,
  maxDelay: 30n * 86_400n,
  defaultDelay: 86_400n,
  window: 7n * 86_400n,
  maxGuardians: 16,
  maxRemovedPasskeys: 16,
} as const

/** EIP-712 domain name / version of the GuardianExecutor. */
export const guardianExecutorDomain = { name: 'GuardianExecutor', version: '1' } as const

/** A recovery: the passkey it adds (with its proof of possession) and what else finalizing does. */
export type RecoveryProposal = {
  /** Raw credential id, hex. */
  credentialId: Hex
  x: Hex
  y: Hex
  rpId: string
  origin: string
  /** The new passkey's WebAuthn signature of `registrationChallenge(account, credentialId)`. */
  proof: Hex
  /** Raw credential ids (hex) of passkeys to remove after adding the new one. */
  removedCredentialIds: readonly Hex[]
  revokeSessions: boolean
}

/** Thrown when a recovery input is malformed; nothing is built or sent. */
export class InvalidRecoveryInputError extends BaseError {
  override name = 'InvalidRecoveryInputError'
  /** The input at fault, e.g. `guardian` or `delay`. */
  readonly field: string

  constructor(field: string, shortMessage: string, cause?: unknown) {
    super(shortMessage, cause === undefined ? {} : { cause })
    this.field = field
  }
}

/** @internal A checksummed address, or {@link InvalidRecoveryInputError} naming `field`. */
export function checkAddress(field: string, value: string): Address {
  if (!isAddress(value, { strict: false }) || value.toLowerCase() === zeroAddress)
    throw new InvalidRecoveryInputError(field, `${field} is not an address: ${value}`)
  return getAddress(value)
}

const approveRecoveryTypes = {
  ApproveRecovery: [
    { name: 'account', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'credentialId', type: 'bytes' },
    { name: 'x', type: 'bytes32' },
    { name: 'y', type: 'bytes32' },
    { name: 'rpId', type: 'string' },
    { name: 'origin', type: 'string' },
    { name: 'proof', type: 'bytes' },
    { name: 'removedCredentialIds', type: 'bytes[]' },
    { name: 'revokeSessions', type: 'bool' },
  ],
} as const

const acceptGuardianTypes = {
  AcceptGuardian: [
    { name: 'account', type: 'address' },
    { name: 'guardian', type: 'address' },
    { name: 'proposal', type: 'uint256' },
  ],
} as const

function credentialIdBytes(field: string, id: string): Hex {
  let bytes: Uint8Array
  try {
    bytes = base64UrlToBytes(id)
  } catch (cause) {
    throw new InvalidRecoveryInputError(field, `${field} is not a base64url credential id: ${id}`, cause)
  }
  if (bytes.length === 0) throw new InvalidRecoveryInputError(field, `${field} is empty`)
  return bytesToHex(bytes)
}

/**
 * The proposal adding `credential` with its `proof` (what {@link signRecoveryProposal} makes), checked as the
 * contract would check its shape: the proof names this credential, at most 16 removals, never the new passkey.
 *
 * @example
 * ```ts
 * const proposal = toRecoveryProposal({ credential, proof, removedCredentialIds: [lost.id] })
 * ```
 */
export function toRecoveryProposal(parameters: {
  credential: SsoCredential
  proof: Hex
  /** base64url ids of passkeys to remove after adding the new one. */
  removedCredentialIds?: readonly string[] | undefined
  revokeSessions?: boolean | undefined
}): RecoveryProposal {
  const { credential, proof } = parameters
  const credentialId = credentialIdBytes('credential.id', credential.id)
  if (
    !isHex(proof, { strict: true }) ||
    size(proof) < 4 ||
    sliceHex(proof, 0, 4) !== credentialKey(credential.id)
  )
    throw new InvalidRecoveryInputError('proof', 'proof is not a WebAuthn signature by this credential')
  const removed = (parameters.removedCredentialIds ?? []).map((id) =>
    credentialIdBytes('removedCredentialIds', id),
  )
  if (removed.length > recoveryBounds.maxRemovedPasskeys)
    throw new InvalidRecoveryInputError(
      'removedCredentialIds',
      `at most ${recoveryBounds.maxRemovedPasskeys} passkeys can be removed, got ${removed.length}`,
    )
  if (removed.includes(credentialId))
    throw new InvalidRecoveryInputError(
      'removedCredentialIds',
      'a recovery cannot remove the passkey it adds',
    )
  return {
    credentialId,
    x: credential.publicKey.x,
    y: credential.publicKey.y,
    rpId: credential.rpId ?? new URL(credential.origin).hostname,
    origin: credential.origin,
    proof,
    removedCredentialIds: removed,
    revokeSessions: parameters.revokeSessions ?? false,
  }
}

/**
 * On the new device: signs the account's registration challenge with the new passkey and returns the proposal.
 * `registrationNonce` is `WebAuthnValidator.registrationNonce(account, credentialId)` (0 for a new passkey).
 *
 * @example
 * ```ts
 * const proposal = await signRecoveryProposal({ webAuthnValidator, account, credential, sign })
 * ```
 */
export async function signRecoveryProposal(parameters: {
  webAuthnValidator: Address
  account: string
  credential: SsoCredential
  sign: SsoSign
  registrationNonce?: bigint | undefined
  removedCredentialIds?: readonly string[] | undefined
  revokeSessions?: boolean | undefined
}): Promise<RecoveryProposal> {
  const account = checkAddress('account', parameters.account)
  const { credential } = parameters
  credentialIdBytes('credential.id', credential.id)
  const challenge = registrationChallenge({
    webAuthnValidator: parameters.webAuthnValidator,
    account,
    credentialId: credential.id,
    nonce: parameters.registrationNonce,
  })
  const proof = encodeWebAuthnSignature({ credential, assertion: await parameters.sign(challenge) })
  return toRecoveryProposal({
    credential,
    proof,
    removedCredentialIds: parameters.removedCredentialIds,
    revokeSessions: parameters.revokeSessions,
  })
}

function approvalMessage(account: Address, nonce: bigint, proposal: RecoveryProposal) {
  return {
    account,
    nonce,
    credentialId: proposal.credentialId,
    x: proposal.x,
    y: proposal.y,
    rpId: proposal.rpId,
    origin: proposal.origin,
    proof: proposal.proof,
    removedCredentialIds: proposal.removedCredentialIds,
    revokeSessions: proposal.revokeSessions,
  }
}

/**
 * The recovery id: the EIP-712 struct hash of `ApproveRecovery` for `account` at recovery nonce `nonce`
 * (`GuardianExecutor.recoveryId`).
 *
 * @example
 * ```ts
 * const id = recoveryId({ account, nonce: state.nonce, proposal })
 * ```
 */
export function recoveryId(parameters: { account: string; nonce: bigint; proposal: RecoveryProposal }): Hex {
  const account = checkAddress('account', parameters.account)
  return hashStruct({
    types: approveRecoveryTypes,
    primaryType: 'ApproveRecovery',
    data: approvalMessage(account, parameters.nonce, parameters.proposal),
  })
}

/**
 * What a guardian signs to approve `proposal` for `account` at recovery nonce `nonce` (EIP-712; an EOA guardian
 * signs it with `signTypedData`, a smart-account guardian answers it through ERC-1271).
 *
 * @example
 * ```ts
 * const signature = await guardian.signTypedData(approvalTypedData({ executor, chainId, account, nonce, proposal }))
 * ```
 */
export function approvalTypedData(parameters: {
  executor: Address
  chainId: number
  account: string
  nonce: bigint
  proposal: RecoveryProposal
}): TypedDataDefinition<typeof approveRecoveryTypes, 'ApproveRecovery'> {
  const account = checkAddress('account', parameters.account)
  return {
    domain: {
      ...guardianExecutorDomain,
      chainId: parameters.chainId,
      verifyingContract: parameters.executor,
    },
    types: approveRecoveryTypes,
    primaryType: 'ApproveRecovery',
    message: approvalMessage(account, parameters.nonce, parameters.proposal),
  }
}

/**
 * What a proposed guardian signs to accept (`acceptGuardianWithSignature`); `proposal` is the number in its
 * `GuardianProposed` event (`guardianStatus(account, guardian)`).
 *
 * @example
 * ```ts
 * const signature = await guardian.signTypedData(acceptanceTypedData({ executor, chainId, account, guardian, proposal }))
 * ```
 */
export function acceptanceTypedData(parameters: {
  executor: Address
  chainId: number
  account: string
  guardian: string
  proposal: bigint
}): TypedDataDefinition<typeof acceptGuardianTypes, 'AcceptGuardian'> {
  return {
    domain: {
      ...guardianExecutorDomain,
      chainId: parameters.chainId,
      verifyingContract: parameters.executor,
    },
    types: acceptGuardianTypes,
    primaryType: 'AcceptGuardian',
    message: {
      account: checkAddress('account', parameters.account),
      guardian: checkAddress('guardian', parameters.guardian),
      proposal: parameters.proposal,
    },
  }
}

/** @internal The proposal as the ABI's tuple argument. */
export function proposalArgs(proposal: RecoveryProposal) {
  return { ...proposal, removedCredentialIds: [...proposal.removedCredentialIds] }
}
