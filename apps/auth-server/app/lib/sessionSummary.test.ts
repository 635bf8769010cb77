import {
  allowance,
  callPolicy,
  lifetime,
  type SessionSpec,
  transferPolicy,
  unlimited,
} from '@sso/client/session'
import { type Address, erc20Abi, parseEther } from 'viem'
import { describe, expect, test } from 'vitest'
import { summarizeSession, totalOverSession } from './sessionSummary'

const token: Address = '0x2222222222222222222222222222222222222222'
const shop: Address = '0x3333333333333333333333333333333333333333'
const friend: Address = '0x4444444444444444444444444444444444444444'
const now = 1_800_000_000

function spec(overrides: Partial<SessionSpec> = {}): SessionSpec {
  return {
    signer: '0x6666666666666666666666666666666666666666',
    expiresAt: now + 7200,
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
    ...overrides,
  }
}

describe('summarizeSession', () => {
  test('behavior: allowances are multiplied by the periods the session touches', () => {
    expect(totalOverSession(allowance(10n, 3600), { now: 0, expiresAt: 7200 })).toBe(30n)
    expect(totalOverSession(allowance(10n, 3600), { now: 1800, expiresAt: 3599 })).toBe(10n)
    expect(totalOverSession(lifetime(7n), { now: 0, expiresAt: 1 })).toBe(7n)
    expect(totalOverSession(unlimited, { now: 0, expiresAt: 1 })).toBeUndefined()
  })

  test('behavior: spend per token and ETH; warnings for unlimited and approve policies', () => {
    const start = 3600 * 500_000 // aligned: the session touches 3 hourly periods
    const { spend, warnings } = summarizeSession(spec({ expiresAt: start + 7200 }), { now: start })
    expect(spend).toEqual([
      { token: undefined, total: parseEther('0.02'), sources: [`ETH transfers to ${friend}`] },
      { token, total: 300n, sources: [`transfer on ${token}`] },
    ])
    expect(warnings).toEqual([])

    const risky = summarizeSession(
      spec({
        callPolicies: [
          callPolicy({ abi: erc20Abi, functionName: 'approve', target: token, args: [{ equal: shop }] }),
          callPolicy({ abi: erc20Abi, functionName: 'transfer', target: shop }),
        ],
        transferPolicies: [transferPolicy({ target: friend, maxValuePerUse: 1n, valueLimit: unlimited })],
      }),
      { now },
    )
    expect(risky.warnings.map((w) => [w.kind, w.ack])).toEqual([
      ['unlimited', true],
      ['approve', true],
      ['unlimited', true],
    ])
    expect(risky.spend.find((line) => line.token === undefined)?.total).toBeUndefined()
  })
})
