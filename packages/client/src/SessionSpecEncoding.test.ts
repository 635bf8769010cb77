import { concatHex, erc20Abi, type Hex, keccak256, pad, size } from 'viem'
import { describe, expect, test } from 'vitest'
import { friend, p256Signer, shop, signer, spec, token } from './internal/sessionSpecFixture.js'
import {
  allowance,
  callPolicy,
  InvalidSessionSpecError,
  lifetime,
  type SessionSpec,
  transferPolicy,
  unlimited,
} from './SessionSpec.js'
import {
  decodeSessionSpec,
  encodeSessionSpec,
  InvalidSessionSpecEncodingError,
  sessionId,
} from './SessionSpecEncoding.js'

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
