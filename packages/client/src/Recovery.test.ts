import { p256 } from '@noble/curves/nist.js'
import { guardianExecutorAbi } from '@sso/contracts-abi'
import {
  concatHex,
  decodeFunctionData,
  domainSeparator,
  encodeAbiParameters,
  getAddress,
  type Hex,
  hashTypedData,
  hexToBytes,
  keccak256,
  sha256,
  sliceHex,
  stringToHex,
  toHex,
  zeroAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { thrownBy } from './internal/expectError.js'
import {
  acceptanceTypedData,
  acceptGuardian,
  approvalTypedData,
  approveRecovery,
  approveRecoveryWithSignatures,
  cancelRecovery,
  expireRecovery,
  finalizeRecovery,
  InvalidRecoveryInputError,
  proposeGuardian,
  recoveryBounds,
  recoveryId,
  removeGuardian,
  setRecoveryDelay,
  setThreshold,
  signRecoveryProposal,
  startRecovery,
  toRecoveryProposal,
} from './Recovery.js'
import { createTestPasskey } from './testing/index.js'
import { base64UrlToBytes, bytesToHex } from './WebAuthn.js'
import { credentialKey, decodeWebAuthnSignature, registrationChallenge } from './WebAuthnSignature.js'

const executor = getAddress('0x9e00000000000000000000000000000000000001')
const validator = getAddress('0xa1d0000000000000000000000000000000000002')
const account = getAddress('0xacc0000000000000000000000000000000000003')
const guardian = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')

// What the WebAuthnValidator does: rebuild clientDataJSON from the challenge, then verify P-256.
function verifyAssertion(publicKey: { x: Hex; y: Hex }, challenge: Hex, signature: Hex) {
  const decoded = decodeWebAuthnSignature(signature, challenge)
  const message = new Uint8Array([
    ...hexToBytes(decoded.authenticatorData),
    ...hexToBytes(sha256(new TextEncoder().encode(decoded.clientDataJSON as string))),
  ])
  const rs = hexToBytes(`0x${decoded.r.slice(2)}${decoded.s.slice(2)}`)
  const key = hexToBytes(`0x04${publicKey.x.slice(2)}${publicKey.y.slice(2)}`)
  return p256.verify(rs, message, key, { prehash: true, lowS: true })
}

function expectInvalid(fn: () => unknown, field: string, message: RegExp) {
  const error = thrownBy(fn)
  expect(error).toBeInstanceOf(InvalidRecoveryInputError)
  expect((error as InvalidRecoveryInputError).field).toBe(field)
  expect((error as InvalidRecoveryInputError).shortMessage).toMatch(message)
}

async function newProposal(options: { removed?: string[]; revokeSessions?: boolean } = {}) {
  const passkey = createTestPasskey()
  const proposal = await signRecoveryProposal({
    webAuthnValidator: validator,
    account,
    credential: passkey.credential,
    sign: passkey.sign,
    removedCredentialIds: options.removed,
    revokeSessions: options.revokeSessions,
  })
  return { passkey, proposal }
}

describe('account calls', () => {
  test('behavior: each call targets the executor with the function and arguments it names', () => {
    const other = getAddress('0x00000000000000000000000000000000000000aa')
    const cases = [
      [proposeGuardian({ executor, guardian: other.toLowerCase() }), 'proposeGuardian', [other]],
      [removeGuardian({ executor, guardian: other }), 'removeGuardian', [other]],
      [setThreshold({ executor, threshold: 2n }), 'setThreshold', [2n]],
      [setRecoveryDelay({ executor, delay: 3_600n }), 'setRecoveryDelay', [3_600n]],
      [cancelRecovery({ executor }), 'cancelRecovery', undefined],
      [acceptGuardian({ executor, account }), 'acceptGuardian', [account]],
      [expireRecovery({ executor, account }), 'expireRecovery', [account]],
    ] as const
    for (const [call, functionName, args] of cases) {
      expect(call.to).toBe(executor)
      const decoded = decodeFunctionData({ abi: guardianExecutorAbi, data: call.data as Hex })
      expect(decoded.functionName).toBe(functionName)
      expect(decoded.args).toEqual(args)
    }
  })

  test('error: a guardian that is not an address, or the zero address, is refused', () => {
    expectInvalid(
      () => proposeGuardian({ executor, guardian: '0x1234' }),
      'guardian',
      /not an address: 0x1234/,
    )
    expectInvalid(() => removeGuardian({ executor, guardian: zeroAddress }), 'guardian', /not an address/)
    expectInvalid(() => acceptGuardian({ executor, account: 'alice.eth' }), 'account', /not an address/)
  })

  test('error: threshold and delay out of bounds are refused', () => {
    expectInvalid(() => setThreshold({ executor, threshold: 0n }), 'threshold', /between 1 and 16, got 0/)
    expectInvalid(() => setThreshold({ executor, threshold: 17n }), 'threshold', /got 17/)
    expectInvalid(
      () => setRecoveryDelay({ executor, delay: recoveryBounds.minDelay - 1n }),
      'delay',
      /between 3600 and 2592000 seconds, got 3599/,
    )
    expectInvalid(
      () => setRecoveryDelay({ executor, delay: recoveryBounds.maxDelay + 1n }),
      'delay',
      /got 2592001/,
    )
  })
})

describe('proposals', () => {
  test('behavior: the proof is the new passkey signing the registration challenge of the account', async () => {
    const { passkey, proposal } = await newProposal()
    expect(proposal.credentialId).toBe(bytesToHex(base64UrlToBytes(passkey.credential.id)))
    expect(proposal).toMatchObject({
      x: passkey.credential.publicKey.x,
      y: passkey.credential.publicKey.y,
      rpId: 'localhost',
      origin: 'http://localhost:3002',
      removedCredentialIds: [],
      revokeSessions: false,
    })
    const key = { x: passkey.credential.publicKey.x, y: passkey.credential.publicKey.y }
    const challenge = (nonce: bigint) =>
      registrationChallenge({
        webAuthnValidator: validator,
        account,
        credentialId: passkey.credential.id,
        nonce,
      })
    expect(sliceHex(proposal.proof, 0, 4)).toBe(credentialKey(passkey.credential.id))
    expect(verifyAssertion(key, challenge(0n), proposal.proof)).toBe(true)
    // A proof for the passkey's next registration nonce (after a removal) is another signature.
    expect(verifyAssertion(key, challenge(1n), proposal.proof)).toBe(false)
  })

  test('behavior: removals are raw credential ids; revokeSessions is carried', async () => {
    const lost = createTestPasskey()
    const { proposal } = await newProposal({ removed: [lost.credential.id], revokeSessions: true })
    expect(proposal.removedCredentialIds).toEqual([bytesToHex(base64UrlToBytes(lost.credential.id))])
    expect(proposal.revokeSessions).toBe(true)
  })

  test('error: a proof by another credential, a removal of the new passkey or 17 removals are refused', async () => {
    const { passkey, proposal } = await newProposal()
    const other = createTestPasskey()
    expectInvalid(
      () => toRecoveryProposal({ credential: other.credential, proof: proposal.proof }),
      'proof',
      /not a WebAuthn signature by this credential/,
    )
    expectInvalid(
      () =>
        toRecoveryProposal({
          credential: passkey.credential,
          proof: proposal.proof,
          removedCredentialIds: [passkey.credential.id],
        }),
      'removedCredentialIds',
      /cannot remove the passkey it adds/,
    )
    const many = Array.from({ length: 17 }, () => createTestPasskey().credential.id)
    expectInvalid(
      () =>
        toRecoveryProposal({
          credential: passkey.credential,
          proof: proposal.proof,
          removedCredentialIds: many,
        }),
      'removedCredentialIds',
      /at most 16 passkeys can be removed, got 17/,
    )
    expectInvalid(
      () =>
        toRecoveryProposal({
          credential: { ...passkey.credential, id: 'not base64url!' },
          proof: proposal.proof,
        }),
      'credential.id',
      /not a base64url credential id/,
    )
  })

  test('behavior: the recovery id is the ApproveRecovery struct hash the contract computes', async () => {
    const lost = createTestPasskey()
    const { proposal } = await newProposal({ removed: [lost.credential.id], revokeSessions: true })
    // GuardianExecutor._recoveryId, written out.
    const typeHash = keccak256(
      stringToHex(
        'ApproveRecovery(address account,uint256 nonce,bytes credentialId,bytes32 x,bytes32 y,string rpId,string origin,bytes proof,bytes[] removedCredentialIds,bool revokeSessions)',
      ),
    )
    const removedHashes = keccak256(concatHex(proposal.removedCredentialIds.map((id) => keccak256(id))))
    const expected = keccak256(
      encodeAbiParameters(
        [
          { type: 'bytes32' },
          { type: 'address' },
          { type: 'uint256' },
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'bool' },
        ],
        [
          typeHash,
          account,
          7n,
          keccak256(proposal.credentialId),
          proposal.x,
          proposal.y,
          keccak256(stringToHex(proposal.rpId)),
          keccak256(stringToHex(proposal.origin)),
          keccak256(proposal.proof),
          removedHashes,
          true,
        ],
      ),
    )
    expect(recoveryId({ account, nonce: 7n, proposal })).toBe(expected)
    expect(recoveryId({ account, nonce: 8n, proposal })).not.toBe(expected)
  })

  test('behavior: the approval a guardian signs is the EIP-712 digest of the recovery id', async () => {
    const { proposal } = await newProposal()
    const typedData = approvalTypedData({ executor, chainId: 31337, account, nonce: 0n, proposal })
    const domain = {
      name: 'GuardianExecutor',
      version: '1',
      chainId: 31337,
      verifyingContract: executor,
    } as const
    expect(typedData.domain).toEqual(domain)
    const id = recoveryId({ account, nonce: 0n, proposal })
    // _hashTypedDataV4(id) = keccak256(0x1901 ‖ domainSeparator ‖ id): the digest only depends on the id.
    const digest = hashTypedData(typedData)
    const separator = domainSeparator({ domain })
    expect(digest).toBe(keccak256(`0x1901${separator.slice(2)}${id.slice(2)}`))
    const signature = await guardian.signTypedData(typedData)
    const call = approveRecoveryWithSignatures({
      executor,
      account,
      proposal,
      signatures: [{ guardian: guardian.address, signature }],
    })
    const decoded = decodeFunctionData({ abi: guardianExecutorAbi, data: call.data as Hex })
    expect(decoded.functionName).toBe('approveRecoveryWithSignatures')
    expect(decoded.args?.[2]).toEqual([{ guardian: guardian.address, signature }])
  })

  test('behavior: start, approve and finalize carry the proposal and id unchanged', async () => {
    const { proposal } = await newProposal()
    const id = recoveryId({ account, nonce: 0n, proposal })
    for (const [call, functionName] of [
      [startRecovery({ executor, account, proposal }), 'startRecovery'],
      [finalizeRecovery({ executor, account, proposal }), 'finalizeRecovery'],
    ] as const) {
      const decoded = decodeFunctionData({ abi: guardianExecutorAbi, data: call.data as Hex })
      expect(decoded.functionName).toBe(functionName)
      expect(decoded.args).toEqual([account, proposal])
    }
    const approve = decodeFunctionData({
      abi: guardianExecutorAbi,
      data: approveRecovery({ executor, account, id }).data as Hex,
    })
    expect(approve.args).toEqual([account, id])
  })

  test('error: a malformed recovery id, or no signatures, are refused', async () => {
    const { proposal } = await newProposal()
    expectInvalid(
      () => approveRecovery({ executor, account, id: toHex(1) }),
      'id',
      /not a 32-byte hex recovery id/,
    )
    expectInvalid(
      () => approveRecoveryWithSignatures({ executor, account, proposal, signatures: [] }),
      'signatures',
      /at least one guardian signature/,
    )
  })

  test('behavior: the acceptance typed data names the account, the guardian and the proposal number', () => {
    const typedData = acceptanceTypedData({
      executor,
      chainId: 1,
      account,
      guardian: guardian.address,
      proposal: 3n,
    })
    expect(typedData.message).toEqual({ account, guardian: guardian.address, proposal: 3n })
    expect(typedData.primaryType).toBe('AcceptGuardian')
  })
})
