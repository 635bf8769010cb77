/**
 * Test fixture: a session spec with one call policy (an ERC-20 `transfer` to `shop`, 100 per hour) and one transfer
 * policy (ETH to `friend`), and the addresses it names. Unit tests only.
 */
import { type Address, erc20Abi, type Hex, parseEther } from 'viem'
import { expect } from 'vitest'
import {
  allowance,
  callPolicy,
  InvalidSessionSpecError,
  lifetime,
  type SessionRequest,
  type SessionSpec,
  transferPolicy,
} from '../SessionSpec.js'

export const account: Address = '0x1111111111111111111111111111111111111111'
export const token: Address = '0x2222222222222222222222222222222222222222'
export const shop: Address = '0x3333333333333333333333333333333333333333'
export const friend: Address = '0x4444444444444444444444444444444444444444'
export const validator: Address = '0x5555555555555555555555555555555555555555'
export const signer: Address = '0x6666666666666666666666666666666666666666'
export const now = 1_800_000_000
// The generator point of P-256: a valid 64-byte P-256 signer.
export const p256Signer: Hex =
  '0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'

/** What a dapp asks for: the fixture's policies, until `expiresAt`. */
export function sessionRequest(expiresAt: number) {
  return {
    expiresAt,
    feeLimit: lifetime(parseEther('0.01')),
    callPolicies: [
      callPolicy({
        abi: erc20Abi,
        functionName: 'transfer',
        target: token,
        args: [{ equal: shop }, { limit: allowance(100n, '1h') }],
      }),
    ],
    transferPolicies: [
      transferPolicy({
        target: friend,
        maxValuePerUse: parseEther('0.01'),
        valueLimit: lifetime(parseEther('0.02')),
      }),
    ],
  } satisfies SessionRequest
}

/** The fixture spec, signed by `signer` and valid for two hours after `now`. */
export function spec(overrides: Partial<SessionSpec> = {}): SessionSpec {
  return { signer, ...sessionRequest(now + 7200), ...overrides }
}

/** The rule an `InvalidSessionSpecError` thrown by `fn` names (after checking its code and data). */
export function ruleOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (error instanceof InvalidSessionSpecError) {
      expect(error.code).toBe(-32602)
      expect(error.data).toMatchObject({ reason: 'invalid_session_spec', rule: error.rule })
      return error.rule
    }
    throw error
  }
  return undefined
}
