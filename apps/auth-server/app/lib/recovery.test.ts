import { type RecoveryProposal, recoveryBounds, setThreshold } from '@sso/client/recovery'
import { guardianExecutorAbi } from '@sso/contracts-abi'
import { encodeErrorResult, keccak256 } from 'viem'
import { expect, test } from 'vitest'
import { AccountError } from './errors'
import {
  decodeProposal,
  encodeProposal,
  formatDuration,
  parseAddress,
  RecoveryInputError,
  recoveryErrorText,
} from './recovery'
import { decodeRevert } from './revert'

const credentialId = '0x0102030405060708090a0b0c0d0e0f10'
const proposal: RecoveryProposal = {
  credentialId,
  x: `0x${'11'.repeat(32)}`,
  y: `0x${'22'.repeat(32)}`,
  rpId: 'localhost',
  origin: 'http://localhost:3002',
  proof: `${keccak256(credentialId)}${'ab'.repeat(194)}`,
  removedCredentialIds: ['0xaaaa', '0xbbbbcc'],
  revokeSessions: true,
}

test('behavior: a proposal survives the recovery link (base64url, URL-safe)', () => {
  const parameter = encodeProposal(proposal)
  expect(parameter).toMatch(/^[A-Za-z0-9_.~-]+$/)
  expect(parameter.length).toBeLessThan(500)
  expect(decodeProposal(parameter)).toEqual(proposal)
  expect(
    decodeProposal(encodeProposal({ ...proposal, removedCredentialIds: [], revokeSessions: false })),
  ).toEqual({
    ...proposal,
    removedCredentialIds: [],
    revokeSessions: false,
  })
})

test('error: a damaged recovery link says so', () => {
  const parameter = encodeProposal(proposal)
  const thrown = (() => {
    try {
      decodeProposal(parameter.slice(0, 40))
    } catch (error) {
      return error
    }
  })()
  expect(thrown).toBeInstanceOf(RecoveryInputError)
  expect((thrown as Error).message).toBe(
    'This recovery link is damaged (its proposal does not decode). Ask for the link again.',
  )
  // Every field intact but the proof of another credential: damaged too.
  const other = encodeProposal({ ...proposal, credentialId: '0x0102' })
  expect(() => decodeProposal(other)).toThrow(
    new RecoveryInputError(
      'This recovery link is damaged (its proposal does not decode). Ask for the link again.',
    ),
  )
})

test('behavior: addresses from input are trimmed and checksummed; anything else is refused by name', () => {
  expect(parseAddress(' 0x976ea74026e726554db657fa54763abd0c3a0aa9 ')).toBe(
    '0x976EA74026E726554dB657fA54763abd0C3a0aa9',
  )
  for (const bad of ['', '0x1234', `0x${'0'.repeat(40)}`, 'vitalik.eth'])
    expect(() => parseAddress(bad, 'address of a guardian')).toThrow(
      new RecoveryInputError('That is not an address of a guardian: enter 0x followed by 40 hex digits.'),
    )
})

test('behavior: durations read as a person says them', () => {
  expect(formatDuration(recoveryBounds.defaultDelay)).toBe('1 day')
  expect(formatDuration(recoveryBounds.maxDelay)).toBe('30 days')
  expect(formatDuration(86_399n)).toBe('23 hours 59 minutes')
  expect(formatDuration(3_600)).toBe('1 hour')
  expect(formatDuration(12)).toBe('12 seconds')
  expect(formatDuration(-5n)).toBe('0 seconds')
})

test('error: an executor revert is explained in words and named', () => {
  const data = encodeErrorResult({
    abi: guardianExecutorAbi,
    errorName: 'InvalidThreshold',
    args: ['0x976EA74026E726554dB657fA54763abd0C3a0aa9', 3n, 2n],
  })
  const revert = decodeRevert(data)
  expect(revert.name).toBe('InvalidThreshold')
  const error = new AccountError(`This transaction would fail: ${revert.text}. Nothing was signed.`, -32003)
  expect(recoveryErrorText(error)).toBe(
    'This transaction would fail: the threshold must be between 1 and the number of accepted guardians. Nothing changed. (InvalidThreshold)',
  )
})

test('error: a malformed SDK input says which and that nothing was sent', () => {
  const thrown = (() => {
    try {
      setThreshold({ executor: '0x976EA74026E726554dB657fA54763abd0C3a0aa9', threshold: 0n })
    } catch (error) {
      return error
    }
  })()
  expect(recoveryErrorText(thrown)).toBe('threshold must be between 1 and 16, got 0. Nothing was sent.')
})
