import {
  type Address,
  concatHex,
  encodeFunctionData,
  erc20Abi,
  type Hex,
  keccak256,
  pad,
  parseEther,
  size,
  zeroAddress,
} from 'viem'
import { entryPoint08Address } from 'viem/account-abstraction'
import { describe, expect, test } from 'vitest'
import {
  allowance,
  callPolicy,
  checkSessionCalls,
  decodeSessionSpec,
  encodeSessionSpec,
  InvalidSessionSpecEncodingError,
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

  test('behavior: the session id is keccak256 of the packed spec; the wire form round-trips', () => {
    const s = spec()
    expect(sessionId(s)).toBe(keccak256(encodeSessionSpec(s)))
    const wire = sessionSpecToWire(s)
    expect(JSON.parse(JSON.stringify(wire))).toEqual(wire) // no bigints on the wire
    expect(wire.transferPolicies[0]?.maxValuePerUse).toBe('0x2386f26fc10000')
    expect(sessionSpecFromWire(wire)).toEqual({ ...s, callPolicies: [...s.callPolicies] })
    expect(sessionId(sessionSpecFromWire(wire))).toBe(sessionId(s))
  })
})

// The generator point of P-256: a valid 64-byte P-256 signer.
const p256Signer: Hex =
  '0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'

describe('packed encoding', () => {
  test('behavior: golden vector, written by hand from the layout', () => {
    // signerKind 01, signer, expiresAt (6 bytes) = now + 7200 = 0x6b49ee20
    // Limit = type(1) limit(13) period(4)
    const limit = (type: string, amount: string, period: string) =>
      `${type}${amount.padStart(26, '0')}${period.padStart(8, '0')}`
    const expected = `0x${[
      '01',
      '6666666666666666666666666666666666666666',
      '00006b49ee20',
      limit('01', '2386f26fc10000', '0'), // fee: Lifetime 0.01 ETH
      '01', // one call policy
      '2222222222222222222222222222222222222222', // target
      'a9059cbb', // selector
      '00'.repeat(13), // maxValuePerUse 0
      limit('00', '0', '0'), // valueLimit Unlimited
      '02', // two constraints
      '01', // Equal
      '0000', // index 0
      `${'00'.repeat(12)}3333333333333333333333333333333333333333`, // refValue: the shop
      limit('00', '0', '0'),
      '00', // Unconstrained
      '0001', // index 1
      '00'.repeat(32),
      limit('02', '64', 'e10'), // Allowance 100 per 3600 s
      '01', // one transfer policy
      '4444444444444444444444444444444444444444',
      '0000000000002386f26fc10000', // maxValuePerUse 0.01 ETH (13 bytes)
      limit('01', '470de4df820000', '0'), // Lifetime 0.02 ETH
    ].join('')}` as Hex
    expect(encodeSessionSpec(spec())).toBe(expected)
    expect(size(expected)).toBe(1 + 20 + 6 + 18 + 1 + (56 + 2 * 53) + 1 + 51)
    expect(decodeSessionSpec(expected)).toEqual(spec())
    expect(sessionId(spec())).toBe(keccak256(expected))
  })

  test('behavior: encode / decode round-trip with both signer kinds, several policies and constraints', () => {
    const many: SessionSpec = {
      signer: p256Signer,
      expiresAt: 2 ** 48 - 1,
      feeLimit: allowance((1n << 80n) - 1n, 2 ** 32 - 1),
      callPolicies: [
        callPolicy({
          abi: erc20Abi,
          functionName: 'transfer',
          target: token,
          args: [{ notEqual: friend }, { lessOrEqual: 10n, limit: lifetime((1n << 104n) - 1n) }],
          maxValuePerUse: (1n << 104n) - 1n,
          valueLimit: allowance(5n, '1d'),
        }),
        callPolicy({
          abi: erc20Abi,
          functionName: 'approve',
          target: shop,
          args: [{ notEqual: shop }, { greater: 1n, limit: allowance(7n, 60) }],
        }),
        callPolicy({
          abi: erc20Abi,
          functionName: 'transferFrom',
          target: token,
          args: [undefined, undefined, { less: 2n }],
        }),
        {
          target: friend,
          selector: '0xdeadbeef',
          maxValuePerUse: 1n,
          valueLimit: lifetime(2n),
          constraints: [
            { condition: 'greaterOrEqual', index: 65_535, refValue: pad('0xff'), limit: unlimited },
          ],
        },
      ],
      transferPolicies: [
        transferPolicy({ target: friend, maxValuePerUse: 3n, valueLimit: unlimited }),
        transferPolicy({ target: shop, maxValuePerUse: 0n, valueLimit: allowance(9n, '1w') }),
      ],
    }
    for (const s of [many, { ...many, signer: signer.toLowerCase() as Hex }, spec()]) {
      const bytes = encodeSessionSpec(s)
      const decoded = decodeSessionSpec(bytes)
      expect(decoded).toEqual({
        ...s,
        callPolicies: s.callPolicies.map((p) => ({ ...p, constraints: [...p.constraints] })),
        transferPolicies: [...s.transferPolicies],
      })
      expect(encodeSessionSpec(decoded)).toBe(bytes)
      expect(sessionId(decoded)).toBe(keccak256(bytes))
    }
    // Every field at its width: P-256 signer 64 bytes, 4 call policies with 6 constraints, 2 transfer policies.
    expect(size(encodeSessionSpec(many))).toBe(1 + 64 + 6 + 18 + 1 + 4 * 56 + 6 * 53 + 1 + 2 * 51)
    // Upper-case hex decodes the same.
    expect(decodeSessionSpec(encodeSessionSpec(many).toUpperCase().replace('0X', '0x') as Hex)).toEqual(
      decodeSessionSpec(encodeSessionSpec(many)),
    )
  })

  test('error: decode refuses truncated, trailing, bad-kind and bad-enum bytes with the offset', () => {
    const good = encodeSessionSpec(spec())
    const n = size(good)
    const offsetOf = (bytes: Hex): number | undefined => {
      try {
        decodeSessionSpec(bytes)
      } catch (error) {
        if (error instanceof InvalidSessionSpecEncodingError) {
          expect(error.code).toBe(-32602)
          expect(error.data).toMatchObject({ reason: 'invalid_session_spec_encoding', offset: error.offset })
          return error.offset
        }
        throw error
      }
      return undefined
    }
    const at = (offset: number, byte: string) =>
      `0x${good.slice(2, 2 + 2 * offset)}${byte}${good.slice(4 + 2 * offset)}` as Hex
    // Offsets in the golden spec: fee limit at 27, call count 45, policy 46, constraint 0 at 102 (condition),
    // its limit at 137, constraint 1 at 155, transfer count 208, transfer policy 209 (its limit at 242).
    expect(offsetOf(good)).toBeUndefined()
    expect(offsetOf('0x')).toBe(0)
    // Truncated: the offset of the first field that no longer fits (signer at 1, transfer count at 208, the last
    // limit's period at 256).
    for (const [cut, offset] of [
      [1, 1],
      [20, 1],
      [n - 52, 208],
      [n - 1, 256],
    ] as const)
      expect(offsetOf(good.slice(0, 2 + 2 * cut) as Hex), `cut at ${cut}`).toBe(offset)
    expect(offsetOf(good.slice(0, -2) as Hex)).toBe(n - 4) // the last limit's period no longer fits
    expect(offsetOf(concatHex([good, '0x00']))).toBe(n)
    expect(offsetOf(at(0, '03'))).toBe(0)
    expect(offsetOf(at(0, '00'))).toBe(0)
    expect(offsetOf(at(0, '02'))).toBe(91) // a P-256 kind reads 64 signer bytes: the shifted fields break at 91
    expect(offsetOf(at(27, '03'))).toBe(27) // fee limit type
    expect(offsetOf(at(102, '07'))).toBe(102) // condition
    expect(offsetOf(at(137, '01'))).toBeUndefined() // Unlimited -> Lifetime 0: still canonical
    expect(offsetOf(at(137 + 17, '01'))).toBe(137) // Unlimited with a period
    expect(offsetOf(at(137 + 5, '01'))).toBe(137) // Unlimited with a limit
    expect(offsetOf(at(27 + 16, '01'))).toBe(27) // Lifetime with a period
    expect(offsetOf(at(45, '02'))).toBe(n - 1) // one call policy more than there is: runs out of bytes
    expect(offsetOf(at(208, '00'))).toBe(209) // no transfer policy: its bytes trail
    expect(offsetOf('0x0' as Hex)).toBe(0)
    expect(offsetOf('0xzz' as Hex)).toBe(0)
  })

  test('error: encode refuses values that do not fit their fields', () => {
    const base = spec().callPolicies[0]!
    const cases: [SessionSpec, string, string][] = [
      [spec({ signer: '0x1234' }), 'invalid-signer', 'signer'],
      [spec({ feeLimit: lifetime(1n << 104n) }), 'malformed-limit', 'feeLimit.limit'],
      [spec({ feeLimit: allowance(1n, 2 ** 32) }), 'malformed-limit', 'feeLimit.period'],
      [spec({ expiresAt: 2 ** 48 }), 'malformed-policy', 'expiresAt'],
      [
        spec({ callPolicies: [{ ...base, maxValuePerUse: 1n << 104n }] }),
        'malformed-limit',
        'callPolicies[0].maxValuePerUse',
      ],
      [
        spec({ callPolicies: [{ ...base, constraints: [{ ...base.constraints[0]!, index: 65_536 }] }] }),
        'malformed-policy',
        'callPolicies[0].constraints[0].index',
      ],
      [spec({ callPolicies: [{ ...base, target: '0x12' }] }), 'malformed-policy', 'callPolicies[0].target'],
      [spec({ callPolicies: Array.from({ length: 256 }, () => base) }), 'malformed-policy', 'callPolicies'],
    ]
    for (const [s, rule, path] of cases) {
      let error: unknown
      try {
        encodeSessionSpec(s)
      } catch (e) {
        error = e
      }
      expect(error, path).toBeInstanceOf(InvalidSessionSpecError)
      expect((error as InvalidSessionSpecError).rule, path).toBe(rule)
      expect((error as InvalidSessionSpecError).path).toBe(path)
    }
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

  test('error: the packed format’s caps (13-byte limits, 80-bit fee limit, uint32 periods, uint16 indexes, 255 entries)', () => {
    const base = spec().callPolicies[0]!
    const c0 = base.constraints[0]!
    const max104 = (1n << 104n) - 1n
    const maxFee = (1n << 80n) - 1n
    const transfer = (target: Address) =>
      transferPolicy({ target, maxValuePerUse: 1n, valueLimit: lifetime(1n) })
    const addr = (i: number) => pad(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address
    const ok: Partial<SessionSpec>[] = [
      { feeLimit: lifetime(maxFee) },
      { feeLimit: allowance(maxFee, 2 ** 32 - 1) },
      { callPolicies: [{ ...base, maxValuePerUse: max104, valueLimit: lifetime(max104) }] },
      { callPolicies: [{ ...base, constraints: [{ ...c0, index: 65_535, limit: allowance(max104, 1) }] }] },
      {
        transferPolicies: [
          transferPolicy({ target: friend, maxValuePerUse: max104, valueLimit: lifetime(max104) }),
        ],
      },
      { callPolicies: Array.from({ length: 255 }, (_, i) => ({ ...base, target: addr(i) })) },
      { transferPolicies: Array.from({ length: 255 }, (_, i) => transfer(addr(i))) },
      { callPolicies: [{ ...base, constraints: Array.from({ length: 255 }, () => c0) }] },
    ]
    for (const overrides of ok)
      expect(
        ruleOf(() => validateSessionSpec(spec(overrides), options)),
        Object.keys(overrides).join(),
      ).toBeUndefined()

    const bad: [Partial<SessionSpec>, string, string][] = [
      [{ feeLimit: lifetime(maxFee + 1n) }, 'malformed-limit', 'feeLimit.limit'],
      [{ feeLimit: allowance(maxFee + 1n, 60) }, 'malformed-limit', 'feeLimit.limit'],
      [{ feeLimit: allowance(1n, 2 ** 32) }, 'malformed-limit', 'feeLimit.period'],
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
        { callPolicies: [{ ...base, valueLimit: allowance(1n, 2 ** 32) }] },
        'malformed-limit',
        'callPolicies[0].valueLimit.period',
      ],
      [
        { callPolicies: [{ ...base, constraints: [{ ...c0, limit: allowance(max104 + 1n, 60) }] }] },
        'malformed-limit',
        'callPolicies[0].constraints[0].limit.limit',
      ],
      [
        { callPolicies: [{ ...base, constraints: [{ ...c0, index: 65_536 }] }] },
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
        { callPolicies: Array.from({ length: 256 }, (_, i) => ({ ...base, target: addr(i) })) },
        'malformed-policy',
        'callPolicies',
      ],
      [
        { transferPolicies: Array.from({ length: 256 }, (_, i) => transfer(addr(i))) },
        'malformed-policy',
        'transferPolicies',
      ],
      [
        { callPolicies: [{ ...base, constraints: Array.from({ length: 256 }, () => c0) }] },
        'malformed-policy',
        'callPolicies[0].constraints',
      ],
      // Within every count, but more than the uint16 length of the session signature can carry.
      [
        {
          callPolicies: Array.from({ length: 5 }, (_, i) => ({
            ...base,
            target: addr(i),
            constraints: Array.from({ length: 255 }, () => c0),
          })),
        },
        'malformed-policy',
        'spec',
      ],
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
