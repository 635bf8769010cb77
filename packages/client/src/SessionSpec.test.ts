import { type Address, erc20Abi, keccak256, pad } from 'viem'
import { describe, expect, test } from 'vitest'
import { shop, spec, token } from './internal/sessionSpecFixture.js'
import {
  allowance,
  callPolicy,
  lifetime,
  sessionSpecFromWire,
  sessionSpecToWire,
  unlimited,
} from './SessionSpec.js'
import { encodeSessionSpec, sessionId } from './SessionSpecEncoding.js'

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
