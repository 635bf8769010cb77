import { sessionSpecBounds } from '@sso/contracts-abi'
import { type Address, erc20Abi, pad, size, zeroAddress } from 'viem'
import { entryPoint08Address } from 'viem/account-abstraction'
import { describe, expect, test } from 'vitest'
import { account, friend, now, p256Signer, ruleOf, spec, validator } from './internal/sessionSpecFixture.js'
import {
  allowance,
  callPolicy,
  InvalidSessionSpecError,
  lifetime,
  type SessionSpec,
  transferPolicy,
  unlimited,
} from './SessionSpec.js'
import { encodeSessionSpec } from './SessionSpecEncoding.js'
import { validateSessionSpec } from './SessionSpecValidation.js'

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

  test('error: the bounds of sessionSpecBounds (@sso/contracts-abi): each accepted at its value, refused past it', () => {
    const base = spec().callPolicies[0]!
    const c0 = base.constraints[0]!
    const { maxUsageLimit: max104, maxFeeLimit: maxFee, maxAllowancePeriod: maxPeriod } = sessionSpecBounds
    const { maxCallPolicies, maxTransferPolicies, maxConstraints, maxConstraintIndex } = sessionSpecBounds
    const transfer = (target: Address) =>
      transferPolicy({ target, maxValuePerUse: 1n, valueLimit: lifetime(1n) })
    const addr = (i: number) => pad(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address
    const ok: Partial<SessionSpec>[] = [
      { feeLimit: lifetime(maxFee) },
      { feeLimit: allowance(maxFee, maxPeriod) },
      { callPolicies: [{ ...base, maxValuePerUse: max104, valueLimit: lifetime(max104) }] },
      {
        callPolicies: [
          { ...base, constraints: [{ ...c0, index: maxConstraintIndex, limit: allowance(max104, 1) }] },
        ],
      },
      {
        transferPolicies: [
          transferPolicy({ target: friend, maxValuePerUse: max104, valueLimit: lifetime(max104) }),
        ],
      },
      { callPolicies: Array.from({ length: maxCallPolicies }, (_, i) => ({ ...base, target: addr(i) })) },
      { transferPolicies: Array.from({ length: maxTransferPolicies }, (_, i) => transfer(addr(i))) },
      { callPolicies: [{ ...base, constraints: Array.from({ length: maxConstraints }, () => c0) }] },
      { expiresAt: sessionSpecBounds.maxExpiresAt },
    ]
    for (const overrides of ok)
      expect(
        ruleOf(() => validateSessionSpec(spec(overrides), options)),
        Object.keys(overrides).join(),
      ).toBeUndefined()

    const bad: [Partial<SessionSpec>, string, string][] = [
      [{ feeLimit: lifetime(maxFee + 1n) }, 'malformed-limit', 'feeLimit.limit'],
      [{ feeLimit: allowance(maxFee + 1n, 60) }, 'malformed-limit', 'feeLimit.limit'],
      [{ feeLimit: allowance(1n, maxPeriod + 1) }, 'malformed-limit', 'feeLimit.period'],
      [
        { callPolicies: [{ ...base, maxValuePerUse: max104 + 1n }] },
        'malformed-limit',
        'callPolicies[0].maxValuePerUse',
      ],
      [
        { callPolicies: [{ ...base, valueLimit: lifetime(max104 + 1n) }] },
        'malformed-limit',
        'callPolicies[0].valueLimit.limit',
      ],
      [
        { callPolicies: [{ ...base, valueLimit: allowance(1n, maxPeriod + 1) }] },
        'malformed-limit',
        'callPolicies[0].valueLimit.period',
      ],
      [
        { callPolicies: [{ ...base, constraints: [{ ...c0, limit: allowance(max104 + 1n, 60) }] }] },
        'malformed-limit',
        'callPolicies[0].constraints[0].limit.limit',
      ],
      [
        { callPolicies: [{ ...base, constraints: [{ ...c0, index: maxConstraintIndex + 1 }] }] },
        'malformed-policy',
        'callPolicies[0].constraints[0].index',
      ],
      [
        {
          transferPolicies: [
            transferPolicy({ target: friend, maxValuePerUse: max104 + 1n, valueLimit: unlimited }),
          ],
        },
        'malformed-limit',
        'transferPolicies[0].maxValuePerUse',
      ],
      [
        {
          transferPolicies: [
            transferPolicy({ target: friend, maxValuePerUse: 1n, valueLimit: lifetime(max104 + 1n) }),
          ],
        },
        'malformed-limit',
        'transferPolicies[0].valueLimit.limit',
      ],
      [
        {
          callPolicies: Array.from({ length: maxCallPolicies + 1 }, (_, i) => ({ ...base, target: addr(i) })),
        },
        'malformed-policy',
        'callPolicies',
      ],
      [
        { transferPolicies: Array.from({ length: maxTransferPolicies + 1 }, (_, i) => transfer(addr(i))) },
        'malformed-policy',
        'transferPolicies',
      ],
      [
        { callPolicies: [{ ...base, constraints: Array.from({ length: maxConstraints + 1 }, () => c0) }] },
        'malformed-policy',
        'callPolicies[0].constraints',
      ],
      [{ expiresAt: sessionSpecBounds.maxExpiresAt + 1 }, 'malformed-policy', 'expiresAt'],
    ]
    for (const [overrides, rule, path] of bad) {
      let error: unknown
      try {
        validateSessionSpec(spec(overrides), options)
      } catch (e) {
        error = e
      }
      expect(error, path).toBeInstanceOf(InvalidSessionSpecError)
      expect([(error as InvalidSessionSpecError).rule, (error as InvalidSessionSpecError).path]).toEqual([
        rule,
        path,
      ])
    }
  })

  test('behavior: the largest spec within the bounds fits the session signature (uint16 length)', () => {
    const base = spec().callPolicies[0]!
    const c0 = base.constraints[0]!
    const addr = (i: number) => pad(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address
    const largest = spec({
      signer: p256Signer,
      callPolicies: Array.from({ length: sessionSpecBounds.maxCallPolicies }, (_, i) => ({
        ...base,
        target: addr(i),
        constraints: Array.from({ length: sessionSpecBounds.maxConstraints }, () => c0),
      })),
      transferPolicies: Array.from({ length: sessionSpecBounds.maxTransferPolicies }, (_, i) =>
        transferPolicy({ target: addr(1000 + i), maxValuePerUse: 1n, valueLimit: lifetime(1n) }),
      ),
    })
    expect(ruleOf(() => validateSessionSpec(largest, options))).toBeUndefined()
    expect(size(encodeSessionSpec(largest))).toBeLessThanOrEqual(sessionSpecBounds.maxPackedLength)
  })
})
