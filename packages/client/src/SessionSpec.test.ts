import { type Address, encodeFunctionData, erc20Abi, keccak256, pad, parseEther, zeroAddress } from 'viem'
import { entryPoint08Address } from 'viem/account-abstraction'
import { describe, expect, test } from 'vitest'
import {
  allowance,
  callPolicy,
  checkSessionCalls,
  encodeSessionSpec,
  InvalidSessionSpecError,
  lifetime,
  type SessionSpec,
  sessionId,
  sessionSpecFromWire,
  sessionSpecToWire,
  summarizeSession,
  totalOverSession,
  transferPolicy,
  unlimited,
  validateSessionSpec,
} from './SessionSpec.js'

const account: Address = '0x1111111111111111111111111111111111111111'
const token: Address = '0x2222222222222222222222222222222222222222'
const shop: Address = '0x3333333333333333333333333333333333333333'
const friend: Address = '0x4444444444444444444444444444444444444444'
const validator: Address = '0x5555555555555555555555555555555555555555'
const signer: Address = '0x6666666666666666666666666666666666666666'
const now = 1_800_000_000

function spec(overrides: Partial<SessionSpec> = {}): SessionSpec {
  return {
    signer,
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

function ruleOf(fn: () => unknown): string | undefined {
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

describe('policy helpers', () => {
  test('behavior: callPolicy encodes the selector and one constraint per constrained argument', () => {
    const policy = callPolicy({
      abi: erc20Abi,
      functionName: 'transfer',
      target: token,
      args: [{ equal: shop }, { lessOrEqual: 50n, limit: lifetime(200n) }],
    })
    expect(policy.selector).toBe('0xa9059cbb')
    expect(policy.maxValuePerUse).toBe(0n)
    expect(policy.valueLimit).toEqual(unlimited)
    expect(policy.constraints).toEqual([
      { condition: 'equal', index: 0, refValue: pad(shop.toLowerCase() as Address), limit: unlimited },
      { condition: 'lessOrEqual', index: 1, refValue: pad('0x32'), limit: { type: 'lifetime', limit: 200n } },
    ])
    // An argument with only a limit is counted but not compared.
    const counted = callPolicy({
      abi: erc20Abi,
      functionName: 'approve',
      target: token,
      args: [undefined, { limit: lifetime(5n) }],
    })
    expect(counted.constraints).toEqual([
      { condition: 'unconstrained', index: 1, refValue: pad('0x0'), limit: lifetime(5n) },
    ])
  })

  test('behavior: allowance periods in seconds or with a unit', () => {
    expect(allowance(1n, '1h')).toEqual({ type: 'allowance', limit: 1n, period: 3600 })
    expect(allowance(1n, '30m')).toEqual({ type: 'allowance', limit: 1n, period: 1800 })
    expect(allowance(1n, '2d')).toEqual({ type: 'allowance', limit: 1n, period: 172_800 })
    expect(allowance(1n, 42)).toEqual({ type: 'allowance', limit: 1n, period: 42 })
  })

  test('error: callPolicy refuses unknown functions, missing and dynamic arguments', () => {
    expect(() => callPolicy({ abi: erc20Abi, functionName: 'nope', target: token })).toThrow(
      /no function "nope"/,
    )
    expect(() =>
      callPolicy({
        abi: erc20Abi,
        functionName: 'transfer',
        target: token,
        args: [undefined, undefined, { equal: 1n }],
      }),
    ).toThrow(/no argument 2/)
    const abi = [
      {
        type: 'function',
        name: 'f',
        inputs: [{ name: 'b', type: 'bytes' }],
        outputs: [],
        stateMutability: 'nonpayable',
      },
    ] as const
    expect(() => callPolicy({ abi, functionName: 'f', target: token, args: [{ equal: '0x00' }] })).toThrow(
      /dynamic/,
    )
    expect(() => allowance(1n, '1y' as '1h')).toThrow(/Invalid allowance period/)
  })

  test('behavior: the session id is keccak256 of the ABI-encoded spec; the wire form round-trips', () => {
    const s = spec()
    expect(sessionId(s)).toBe(keccak256(encodeSessionSpec(s)))
    const wire = sessionSpecToWire(s)
    expect(JSON.parse(JSON.stringify(wire))).toEqual(wire) // no bigints on the wire
    expect(wire.transferPolicies[0]?.maxValuePerUse).toBe('0x2386f26fc10000')
    expect(sessionSpecFromWire(wire)).toEqual({ ...s, callPolicies: [...s.callPolicies] })
    expect(sessionId(sessionSpecFromWire(wire))).toBe(sessionId(s))
  })
})

describe('validateSessionSpec', () => {
  const options = { now, account, bannedTargets: [validator] }

  test('behavior: a good spec passes', () => {
    expect(validateSessionSpec(spec(), options)).toEqual(spec())
    // A P-256 signer (the generator point of P-256 is on the curve).
    const x = '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'
    const y = '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'
    expect(ruleOf(() => validateSessionSpec(spec({ signer: `0x${x}${y}` }), options))).toBeUndefined()
  })

  test('error: expiry in the past', () => {
    expect(ruleOf(() => validateSessionSpec(spec({ expiresAt: now - 1 }), options))).toBe('expiry-in-past')
    expect(ruleOf(() => validateSessionSpec(spec({ expiresAt: now }), options))).toBe('expiry-in-past')
  })

  test('error: zero, malformed or off-curve signer', () => {
    expect(ruleOf(() => validateSessionSpec(spec({ signer: zeroAddress }), options))).toBe('invalid-signer')
    expect(ruleOf(() => validateSessionSpec(spec({ signer: '0x1234' }), options))).toBe('invalid-signer')
    expect(ruleOf(() => validateSessionSpec(spec({ signer: `0x${'00'.repeat(64)}` }), options))).toBe(
      'invalid-signer',
    )
    expect(ruleOf(() => validateSessionSpec(spec({ signer: `0x${'01'.repeat(64)}` }), options))).toBe(
      'invalid-signer',
    )
  })

  test('error: banned targets (the account, the validators, the EntryPoint)', () => {
    for (const target of [account, validator, entryPoint08Address]) {
      expect(
        ruleOf(() =>
          validateSessionSpec(
            spec({
              transferPolicies: [transferPolicy({ target, maxValuePerUse: 1n, valueLimit: lifetime(1n) })],
            }),
            options,
          ),
        ),
      ).toBe('banned-target')
      expect(
        ruleOf(() =>
          validateSessionSpec(
            spec({ callPolicies: [callPolicy({ abi: erc20Abi, functionName: 'transfer', target })] }),
            options,
          ),
        ),
      ).toBe('banned-target')
    }
  })

  test('error: unlimited fee limit', () => {
    expect(ruleOf(() => validateSessionSpec(spec({ feeLimit: unlimited }), options))).toBe(
      'unlimited-fee-limit',
    )
  })

  test('error: malformed policies and limits', () => {
    const base = spec().callPolicies[0]!
    const cases: [Partial<SessionSpec>, string][] = [
      [{ feeLimit: { type: 'allowance', limit: 1n, period: 0 } }, 'malformed-limit'],
      [{ feeLimit: { type: 'lifetime', limit: -1n } }, 'malformed-limit'],
      [{ feeLimit: { type: 'lifetime', limit: 1n << 110n } }, 'malformed-limit'],
      [{ feeLimit: { type: 'forever' } as never }, 'malformed-limit'],
      [{ callPolicies: [], transferPolicies: [] }, 'malformed-policy'],
      [{ callPolicies: [{ ...base, selector: '0x12' }] }, 'malformed-policy'],
      [{ callPolicies: [{ ...base, target: '0xnope' as Address }] }, 'malformed-policy'],
      [
        { callPolicies: [{ ...base, constraints: [{ ...base.constraints[0]!, index: -1 }] }] },
        'malformed-policy',
      ],
      [
        {
          callPolicies: [
            { ...base, constraints: [{ ...base.constraints[0]!, condition: 'about' as never }] },
          ],
        },
        'malformed-policy',
      ],
      [
        { callPolicies: [{ ...base, constraints: [{ ...base.constraints[0]!, refValue: '0x01' }] }] },
        'malformed-policy',
      ],
      [{ callPolicies: [base, base] }, 'duplicate-policy'],
      [{ callPolicies: [{ ...base, selector: '0x9517e29f' }] }, 'forbidden-selector'],
      [{ expiresAt: 2 ** 48 }, 'malformed-policy'],
    ]
    for (const [overrides, rule] of cases)
      expect(
        ruleOf(() => validateSessionSpec(spec(overrides), options)),
        JSON.stringify(Object.keys(overrides)),
      ).toBe(rule)
  })
})

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
