import { type Address, encodeFunctionData, erc20Abi, parseEther } from 'viem'
import { describe, expect, test } from 'vitest'
import { account, friend, now, shop, spec, token, validator } from './internal/sessionSpecFixture.js'
import { checkSessionCalls } from './SessionPolicy.js'

describe('checkSessionCalls', () => {
  const transferTo = (to: Address, amount: bigint) => ({
    to: token,
    data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to, amount] }),
  })
  const base = { account, now, bannedTargets: [validator] }

  test('behavior: in-policy calls and batches pass', () => {
    expect(checkSessionCalls(spec(), [transferTo(shop, 60n)], base)).toBeUndefined()
    expect(
      checkSessionCalls(spec(), [{ to: friend, value: parseEther('0.01') }, transferTo(shop, 40n)], base),
    ).toBeUndefined()
  })

  test('error: each broken rule is named', () => {
    const state = {
      status: 'active' as const,
      feeRemaining: 10n,
      callPolicies: [{ valueRemaining: 0n, constraintRemaining: [0n, 30n] }],
      transferValueRemaining: [parseEther('0.015')],
    }
    const cases: [
      Parameters<typeof checkSessionCalls>[1],
      Partial<Parameters<typeof checkSessionCalls>[2]>,
      string,
    ][] = [
      [[transferTo(friend, 1n)], {}, 'constraint-violated'],
      [[transferTo(shop, 101n)], {}, 'constraint-limit-exceeded'],
      [[transferTo(shop, 60n), transferTo(shop, 41n)], {}, 'constraint-limit-exceeded'],
      [[transferTo(shop, 31n)], { state }, 'constraint-limit-exceeded'],
      [[{ to: friend, value: parseEther('0.02') }], {}, 'value-per-use-exceeded'],
      [
        [
          { to: friend, value: parseEther('0.01') },
          { to: friend, value: parseEther('0.01') },
          { to: friend, value: 1n },
        ],
        {},
        'value-limit-exceeded',
      ],
      [
        [
          { to: friend, value: parseEther('0.01') },
          { to: friend, value: parseEther('0.01') },
        ],
        { state },
        'value-limit-exceeded',
      ],
      [[{ to: shop, value: 1n }], {}, 'no-transfer-policy'],
      [
        [
          {
            to: token,
            data: encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [shop, 1n] }),
          },
        ],
        {},
        'no-call-policy',
      ],
      [[{ to: token, value: 1n, data: transferTo(shop, 1n).data }], {}, 'value-per-use-exceeded'],
      [[{ to: token, data: '0xa9059cbb' }], {}, 'constraint-out-of-bounds'],
      [[{ to: token, data: '0x12' }], {}, 'invalid-calldata'],
      [[{ to: account, value: 1n }], {}, 'banned-target'],
      [[{ to: validator, data: '0x12345678' }], {}, 'banned-target'],
      [[{ to: token, data: '0x9517e29f' }], {}, 'forbidden-selector'],
      [[transferTo(shop, 1n)], { now: now + 7201 }, 'session-expired'],
      [[transferTo(shop, 1n)], { state: { ...state, status: 'revoked' } }, 'session-revoked'],
      [[transferTo(shop, 1n)], { state: { ...state, status: 'expired' } }, 'session-expired'],
      [[], { state, fee: 11n }, 'fee-limit-exceeded'],
    ]
    for (const [calls, extra, rule] of cases) {
      const violation = checkSessionCalls(spec(), calls, { ...base, ...extra })
      expect(
        violation?.rule,
        `${rule}: ${JSON.stringify(calls, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`,
      ).toBe(rule)
      expect(violation?.message.length).toBeGreaterThan(10)
    }
  })
})
