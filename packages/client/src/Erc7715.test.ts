import { encodeFunctionData, erc20Abi } from 'viem'
import { describe, expect, test } from 'vitest'
import { type ExecutionPermissionRequest, UnsupportedPermissionError } from './Erc7715.js'
import { draftToRequests } from './Erc7715Draft.js'
import { permissionsToGrant } from './Erc7715Grant.js'
import { InvalidParamsError } from './Errors.js'
import { expectRpcError, thrownBy } from './internal/expectError.js'
import { account, friend, now, shop, token } from './internal/sessionSpecFixture.js'
import { checkSessionCalls } from './SessionPolicy.js'
import { type SessionSpec, sessionSpecFromWire } from './SessionSpec.js'
import { validateSessionSpec } from './SessionSpecValidation.js'

const expiry = now + 86_400
const feeLimit = 10n ** 16n
const sessionKey = '0x6666666666666666666666666666666666666666' as const

function request(
  permission: ExecutionPermissionRequest['permission'],
  rules: ExecutionPermissionRequest['rules'] = [],
): ExecutionPermissionRequest {
  return {
    chainId: '0x7a69',
    to: sessionKey,
    permission,
    rules: [{ type: 'expiry', data: { timestamp: expiry } }, ...(rules ?? [])],
  }
}
const payee = (address: `0x${string}`) => ({ type: 'payee', data: { addresses: [address] } })

/** The grant as a full spec, checked by the same rules the session manager and the popup apply. */
function specOf(requests: ExecutionPermissionRequest[]): SessionSpec {
  const { grant } = permissionsToGrant(requests, { now, feeLimit })
  const spec = sessionSpecFromWire({ ...grant, signer: grant.signer ?? sessionKey } as never)
  validateSessionSpec(spec, { now, account })
  return spec
}
const transfer = (to: `0x${string}`, amount: bigint) =>
  encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to, amount] })

describe('ERC-7715 permissions as a session', () => {
  test('behavior: erc20-token-periodic is an allowance on transfer amounts, per period, to anyone', () => {
    const spec = specOf([
      request({
        type: 'erc20-token-periodic',
        data: { tokenAddress: token, periodAmount: '0x64', periodDuration: 3600 },
        isAdjustmentAllowed: false,
      }),
    ])
    expect(spec.signer).toBe(sessionKey)
    expect(spec.expiresAt).toBe(expiry)
    expect(spec.feeLimit).toEqual({ type: 'lifetime', limit: feeLimit })
    expect(spec.transferPolicies).toEqual([])
    expect(spec.callPolicies).toHaveLength(1)
    expect(spec.callPolicies[0]).toMatchObject({
      target: token,
      selector: '0xa9059cbb',
      maxValuePerUse: 0n,
      constraints: [
        { condition: 'unconstrained', index: 1, limit: { type: 'allowance', limit: 100n, period: 3600 } },
      ],
    })
    // Only `transfer` of that token: approve is outside the policy.
    const approve = encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [shop, 1n] })
    expect(
      checkSessionCalls(spec, [{ to: token, data: transfer(shop, 100n) }], { now, account }),
    ).toBeUndefined()
    expect(checkSessionCalls(spec, [{ to: token, data: approve }], { now, account })?.rule).toBe(
      'no-call-policy',
    )
  })

  test('behavior: erc20-token-allowance with a payee is a lifetime limit and an equal-recipient constraint', () => {
    const spec = specOf([
      request({ type: 'erc20-token-allowance', data: { tokenAddress: token, allowanceAmount: '0x3e8' } }, [
        payee(shop),
      ]),
    ])
    expect(spec.callPolicies[0]?.constraints).toMatchObject([
      { condition: 'equal', index: 0, limit: { type: 'unlimited' } },
      { condition: 'unconstrained', index: 1, limit: { type: 'lifetime', limit: 1000n } },
    ])
    expect(
      checkSessionCalls(spec, [{ to: token, data: transfer(shop, 1n) }], { now, account }),
    ).toBeUndefined()
    expect(checkSessionCalls(spec, [{ to: token, data: transfer(friend, 1n) }], { now, account })?.rule).toBe(
      'constraint-violated',
    )
  })

  test('behavior: native-token-periodic and -allowance send ETH to the one payee only', () => {
    const spec = specOf([
      request({ type: 'native-token-periodic', data: { periodAmount: '0x100', periodDuration: 86_400 } }, [
        payee(friend),
      ]),
      request({ type: 'native-token-allowance', data: { allowanceAmount: '0x10' } }, [payee(shop)]),
    ])
    expect(spec.transferPolicies).toEqual([
      {
        target: friend,
        maxValuePerUse: 256n,
        valueLimit: { type: 'allowance', limit: 256n, period: 86_400 },
      },
      { target: shop, maxValuePerUse: 16n, valueLimit: { type: 'lifetime', limit: 16n } },
    ])
    expect(checkSessionCalls(spec, [{ to: friend, value: 256n }], { now, account })).toBeUndefined()
    expect(checkSessionCalls(spec, [{ to: friend, value: 257n }], { now, account })?.rule).toBe(
      'value-per-use-exceeded',
    )
    expect(checkSessionCalls(spec, [{ to: token, value: 1n }], { now, account })?.rule).toBe(
      'no-transfer-policy',
    )
  })

  test('behavior: a stream becomes a periodic allowance that never gets ahead of it', () => {
    const rate = 10n
    const initial = 36_000n
    const { grant, granted } = permissionsToGrant(
      [
        request(
          {
            type: 'native-token-stream',
            data: { amountPerSecond: '0xa', initialAmount: `0x${initial.toString(16)}`, startTime: now },
            isAdjustmentAllowed: true,
          },
          [payee(friend)],
        ),
      ],
      { now, feeLimit },
    )
    // Period P = initial / (2 × rate) = 1,800 s, limit rate × P = 18,000.
    expect(grant.transferPolicies).toEqual([
      {
        target: friend,
        maxValuePerUse: '0x4650',
        valueLimit: { type: 'allowance', limit: '0x4650', period: 1800 },
      },
    ])
    expect(granted[0]?.permission).toEqual({
      type: 'native-token-periodic',
      data: { periodAmount: '0x4650', periodDuration: 1800 },
      isAdjustmentAllowed: true,
    })
    // Worst case for the allowance: the whole limit at the end of one period and again in every later one.
    for (const elapsed of [0, 1, 1799, 1800, 5400, 86_399]) {
      const periodsTouched = BigInt(Math.floor(elapsed / 1800) + 2)
      expect(18_000n * periodsTouched).toBeLessThanOrEqual(initial + rate * BigInt(elapsed))
    }
  })

  test('error: what the policy cannot hold is refused with the reason, granting nothing', () => {
    const cases: [ExecutionPermissionRequest, string, RegExp][] = [
      [
        request({ type: 'native-token-periodic', data: { periodAmount: '0x1', periodDuration: 60 } }),
        'payee-required',
        /needs a payee rule with one address/,
      ],
      [
        request({ type: 'native-token-allowance', data: { allowanceAmount: '0x1' } }, [
          { type: 'payee', data: { addresses: [friend, shop] } },
        ]),
        'several-payees',
        /a payee rule may name one address/,
      ],
      [
        request(
          { type: 'native-token-stream', data: { amountPerSecond: '0x1' }, isAdjustmentAllowed: true },
          [payee(friend)],
        ),
        'stream-not-expressible',
        /initialAmount of at least 2 × amountPerSecond/,
      ],
      [
        request({
          type: 'erc20-token-stream',
          data: { tokenAddress: token, amountPerSecond: '0x1', initialAmount: '0x64' },
          isAdjustmentAllowed: false,
        }),
        'stream-needs-adjustment',
        /isAdjustmentAllowed: true/,
      ],
      [
        request(
          {
            type: 'erc20-token-stream',
            data: { tokenAddress: token, amountPerSecond: '0x1', initialAmount: '0x64', maxAmount: '0x64' },
            isAdjustmentAllowed: true,
          },
          [],
        ),
        'stream-max-amount',
        /could pass its maxAmount 100 before the expiry/,
      ],
      [
        request({
          type: 'erc20-token-periodic',
          data: { tokenAddress: token, periodAmount: '0x1', periodDuration: 60, startTime: now + 60 },
        }),
        'future-start',
        /startTime .* is in the future/,
      ],
      [
        request({ type: 'erc721-token-transfer', data: {} }),
        'unsupported-type',
        /"erc721-token-transfer" is not supported/,
      ],
      [
        request({ type: 'erc20-token-allowance', data: { tokenAddress: token, allowanceAmount: '0x1' } }, [
          { type: 'redeemer', data: { addresses: [shop] } },
        ]),
        'unsupported-rule',
        /the rule "redeemer" is not supported/,
      ],
      [
        {
          ...request({
            type: 'erc20-token-allowance',
            data: { tokenAddress: token, allowanceAmount: '0x1' },
          }),
          rules: [],
        },
        'expiry-required',
        /needs an expiry rule/,
      ],
    ]
    for (const [bad, problem, message] of cases) {
      const error = thrownBy(() => permissionsToGrant([bad], { now, feeLimit }))
      expectRpcError(error, UnsupportedPermissionError, -32602, message)
      expect((error as UnsupportedPermissionError).data).toEqual({
        reason: 'unsupported-permission',
        type: bad.permission.type,
        problem,
      })
    }
  })

  test('error: malformed permission data is -32602 naming the type', () => {
    const bad = request({ type: 'erc20-token-periodic', data: { tokenAddress: 'nope', periodAmount: '0x1' } })
    expectRpcError(
      thrownBy(() => permissionsToGrant([bad], { now, feeLimit })),
      InvalidParamsError,
      -32602,
      'params[0].permission.data is malformed for "erc20-token-periodic".',
    )
  })

  test('behavior: the draft shape of wallet_grantPermissions maps erc20-token-transfer + token-allowance', () => {
    const requests = draftToRequests(
      {
        expiry,
        permissions: [
          {
            type: 'erc20-token-transfer',
            data: { address: token, ticker: 'TKN' },
            policies: [{ type: 'token-allowance', data: { allowance: '0x64' } }],
            required: true,
          },
        ],
        signer: { type: 'account', data: { id: sessionKey } },
      },
      '0x7a69',
    )
    const spec = specOf(requests)
    expect(spec.signer).toBe(sessionKey)
    expect(spec.callPolicies[0]?.constraints[0]?.limit).toEqual({ type: 'lifetime', limit: 100n })
    expectRpcError(
      thrownBy(() =>
        draftToRequests(
          { expiry, permissions: [{ type: 'native-token-transfer', data: { ticker: 'ETH' }, policies: [] }] },
          '0x7a69',
        ),
      ),
      UnsupportedPermissionError,
      -32602,
      /"native-token-transfer" is not supported by wallet_grantPermissions/,
    )
  })
})
