import {
  allowance,
  callPolicy,
  checkSessionCalls,
  lifetime,
  type SessionSpec,
  type SessionState,
  transferPolicy,
} from '@sso/client/session'
import { type Address, encodeFunctionData, erc20Abi, parseEther } from 'viem'
import { describe, expect, test } from 'vitest'
import { explainViolation } from './sessionFallback'

const account: Address = '0x1111111111111111111111111111111111111111'
const token: Address = '0x2222222222222222222222222222222222222222'
const shop: Address = '0x3333333333333333333333333333333333333333'
const friend: Address = '0x4444444444444444444444444444444444444444'
const tokens = [{ address: token, symbol: 'DUSD', decimals: 6 }]
const now = 3600 * 500_000 + 600 // 10 minutes into an hourly period

const spec: SessionSpec = {
  signer: '0x6666666666666666666666666666666666666666',
  expiresAt: now + 7200,
  feeLimit: lifetime(parseEther('0.01')),
  callPolicies: [
    callPolicy({
      abi: erc20Abi,
      functionName: 'transfer',
      target: token,
      args: [{ equal: shop }, { limit: allowance(10_000_000n, '1h') }],
    }),
  ],
  transferPolicies: [
    transferPolicy({
      target: friend,
      maxValuePerUse: parseEther('0.01'),
      valueLimit: allowance(parseEther('0.05'), '1h'),
    }),
  ],
}
const state: SessionState = {
  status: 'active',
  feeRemaining: parseEther('0.004'),
  callPolicies: [{ valueRemaining: 0n, constraintRemaining: [0n, 2_500_000n] }],
  transferValueRemaining: [parseEther('0.005')],
}
const session = {
  id: '0xabc0000000000000000000000000000000000000000000000000000000000000' as const,
  spec,
  state,
}
const pay = (to: Address, amount: bigint) => ({
  to: token,
  data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to, amount] }),
})

function explain(calls: { to: Address; data?: `0x${string}`; value?: bigint }[]) {
  const violation = checkSessionCalls(spec, calls, { account, state, now })
  if (!violation) throw new Error('these calls are within the session: nothing to explain')
  return explainViolation(session, violation, calls, { tokens, now })
}

describe('explainViolation', () => {
  test('behavior: a token payment over what is left names both amounts in the token’s units and the reset', () => {
    const out = explain([pay(shop, 4_000_000n)])
    expect(out.reason).toBe('This transfer of 4 DUSD is more than the 2.5 DUSD left of the session’s limit.')
    expect(out.limit).toMatch(/^2\.5 DUSD left of 10 DUSD per 1 h, resets at .+ \(in 50 min\)$/)
  })

  test('behavior: ETH over the allowance, over the per-transfer cap, to an address without a policy', () => {
    const over = explain([{ to: friend, value: parseEther('0.008') }])
    expect(over.reason).toBe(
      'Sends 0.008 ETH to 0x4444…4444, more than the 0.005 ETH left of the session’s limit.',
    )
    expect(over.limit).toMatch(/^0\.005 ETH left of 0\.05 ETH per 1 h, resets at /)
    expect(explain([{ to: friend, value: parseEther('0.02') }]).reason).toBe(
      'Sends 0.02 ETH to 0x4444…4444: the session allows at most 0.01 ETH per transfer.',
    )
    expect(explain([{ to: shop, value: 1n }]).reason).toBe('The session may not send ETH to 0x3333…3333.')
  })

  test('behavior: a rule on an argument, a function without a policy, the account itself', () => {
    expect(explain([pay(friend, 1n)]).reason).toBe(
      'This transfer on DUSD breaks the session’s rule: recipient must be 0x3333…3333.',
    )
    const approve = encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [shop, 1n] })
    expect(explain([{ to: token, data: approve }]).reason).toBe('The session may not call approve on DUSD.')
    expect(explain([{ to: account, data: approve }]).reason).toBe(
      'A session may never change your account’s settings, passkeys or modules.',
    )
  })

  test('behavior: an expired or revoked session says so', () => {
    const expired = checkSessionCalls(spec, [pay(shop, 1n)], { account, state, now: spec.expiresAt + 120 })!
    expect(explainViolation(session, expired, [], { tokens, now: spec.expiresAt + 120 }).reason).toBe(
      'The app’s session expired 2 min ago.',
    )
    const revoked = checkSessionCalls(spec, [], { account, state: { ...state, status: 'revoked' }, now })!
    expect(explainViolation(session, revoked, [], { tokens, now }).reason).toBe(
      'The app’s session was revoked.',
    )
  })
})
