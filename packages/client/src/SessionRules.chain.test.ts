// @vitest-environment node
/**
 * The session rules of `@sso/contracts-abi` (SessionRules.ts), which the client and the popup check, against the
 * real SessionKeyValidator on a real anvil: the forbidden selectors and targets are the ones the contract
 * enforces, and a spec at every bound of `sessionSpecBounds` passes the wire schema, `validateSessionSpec` and
 * the contract's `createSession` (from an SSO account deployed by the factory).
 */
import {
  sessionAccountModules,
  sessionForbiddenSelectors,
  sessionForbiddenTargets,
  sessionKeyValidatorAbi,
  sessionSpecBounds,
} from '@sso/contracts-abi'
import * as v from 'valibot'
import {
  type Address,
  BaseError,
  decodeErrorResult,
  decodeFunctionResult,
  encodeFunctionData,
  erc20Abi,
  getAddress,
  type Hex,
  pad,
  size,
  toFunctionSelector,
} from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type AnvilClient, startAnvilChain } from './internal/anvilChain.js'
import { expectRpcError, thrownBy } from './internal/expectError.js'
import { p256Signer } from './internal/sessionSpecFixture.js'
import { SessionSpec as SessionSpecSchema } from './RpcSchema.js'
import {
  allowance,
  InvalidSessionSpecError,
  lifetime,
  type SessionSpec,
  sessionSpecToWire,
  transferPolicy,
} from './SessionSpec.js'
import { encodeSessionSpec } from './SessionSpecEncoding.js'
import { validateSessionSpec } from './SessionSpecValidation.js'
import { toSsoAccount } from './SsoAccount.js'
import { createTestPasskey } from './testing/index.js'

let chain: Awaited<ReturnType<typeof startAnvilChain>>
let client: AnvilClient
let validator: Address
let account: Address
let modules: Address[]

beforeAll(async () => {
  chain = await startAnvilChain()
  client = chain.client
  const at = (name: string): Address => {
    const address = chain.contracts[name]
    if (!address) throw new Error(`${name} is not in the deployment plan`)
    return address
  }
  validator = at('SessionKeyValidator')
  modules = sessionAccountModules({
    sessionKeyValidator: validator,
    webAuthnValidator: at('WebAuthnValidator'),
    guardianExecutor: at('GuardianExecutor'),
  })
  const owner = createTestPasskey()
  const sso = await toSsoAccount({
    client,
    credential: owner.credential,
    sign: owner.sign,
    contracts: { accountFactory: at('AccountFactory'), webAuthnValidator: at('WebAuthnValidator') },
  })
  const { factory, factoryData } = await sso.getFactoryArgs()
  await client.waitForTransactionReceipt({
    hash: await client.sendTransaction({
      to: factory as Address,
      data: factoryData as Hex,
      chain: client.chain,
    }),
  })
  account = sso.address
}, 600_000)

afterAll(() => chain?.stop())

/** `createSession(spec)` as the account calls it: the session id, or the name and args of the revert. */
async function createSession(spec: Hex): Promise<{ id: Hex } | { error: string; args: readonly unknown[] }> {
  const data = encodeFunctionData({
    abi: sessionKeyValidatorAbi,
    functionName: 'createSession',
    args: [spec],
  })
  try {
    const result = await client.call({ account, to: validator, data })
    return {
      id: decodeFunctionResult({
        abi: sessionKeyValidatorAbi,
        functionName: 'createSession',
        data: result.data!,
      }),
    }
  } catch (error) {
    const withData =
      error instanceof BaseError
        ? error.walk((e) => typeof (e as { data?: unknown }).data === 'string')
        : undefined
    const bytes = (withData as { data?: Hex } | null | undefined)?.data
    if (!bytes) throw error
    const decoded = decodeErrorResult({ abi: sessionKeyValidatorAbi, data: bytes })
    return { error: decoded.errorName, args: decoded.args ?? [] }
  }
}

const read = <name extends 'forbiddenSelectors' | 'forbiddenTargets' | 'isForbiddenCall'>(
  functionName: name,
  args: readonly unknown[],
) =>
  client.readContract({
    address: validator,
    abi: sessionKeyValidatorAbi,
    functionName,
    args,
  } as never) as Promise<unknown>

describe('the forbidden list equals what the SessionKeyValidator enforces', () => {
  test('behavior: sessionForbiddenSelectors is forbiddenSelectors(), each the selector of its signature', async () => {
    expect(await read('forbiddenSelectors', [])).toEqual(sessionForbiddenSelectors.map((s) => s.selector))
    for (const { selector, signature } of sessionForbiddenSelectors)
      expect(toFunctionSelector(`function ${signature}`)).toBe(selector)
    // And the contract refuses each of them in a call, on any target.
    const target = pad('0x1234', { size: 20 })
    for (const { selector } of sessionForbiddenSelectors)
      expect(await read('isForbiddenCall', [account, target, selector]), selector).toBe(true)
  })

  test('behavior: sessionForbiddenTargets starts with forbiddenTargets(account); the contract refuses every target of it', async () => {
    const targets = sessionForbiddenTargets({ account, sessionKeyValidator: validator, modules })
    expect(await read('forbiddenTargets', [account])).toEqual(
      targets.slice(0, 3).map((t) => getAddress(t.address)),
    )
    expect(targets.map((t) => t.what)).toEqual([
      'the account itself',
      'the SessionKeyValidator',
      'the EntryPoint',
      'a module of the account',
      'a module of the account',
      'a module of the account',
    ])
    for (const { address } of targets) {
      expect(await read('isForbiddenCall', [account, address, '0x']), address).toBe(true)
      expect(await read('isForbiddenCall', [account, address, '0xa9059cbb']), address).toBe(true)
    }
    // Nothing else: our other contracts and any other address are allowed targets.
    for (const address of [
      chain.contracts.AccountFactory!,
      chain.contracts.SponsorPaymaster!,
      pad('0x99', { size: 20 }),
    ])
      expect(await read('isForbiddenCall', [account, address, '0x']), address).toBe(false)
  })
})

describe('sessionSpecBounds: the wire schema, validateSessionSpec and the contract agree', () => {
  const addr = (i: number) => pad(`0x${(0x1000 + i).toString(16)}`, { size: 20 }) as Address
  const { maxUsageLimit, maxFeeLimit, maxAllowancePeriod, maxExpiresAt, maxConstraintIndex } =
    sessionSpecBounds
  /** The largest spec the bounds allow: every count, index, amount, period and the expiry at its bound. */
  const largest = (): SessionSpec => ({
    signer: p256Signer,
    expiresAt: maxExpiresAt,
    feeLimit: allowance(maxFeeLimit, maxAllowancePeriod),
    callPolicies: Array.from({ length: sessionSpecBounds.maxCallPolicies }, (_, i) => ({
      target: addr(i),
      selector: toFunctionSelector(erc20Abi.find((item) => item.name === 'transfer')!),
      maxValuePerUse: maxUsageLimit,
      valueLimit: lifetime(maxUsageLimit),
      constraints: Array.from({ length: sessionSpecBounds.maxConstraints }, () => ({
        condition: 'lessOrEqual' as const,
        index: maxConstraintIndex,
        refValue: pad('0x01'),
        limit: allowance(maxUsageLimit, maxAllowancePeriod),
      })),
    })),
    transferPolicies: Array.from({ length: sessionSpecBounds.maxTransferPolicies }, (_, i) =>
      transferPolicy({
        target: addr(100 + i),
        maxValuePerUse: maxUsageLimit,
        valueLimit: lifetime(maxUsageLimit),
      }),
    ),
  })

  test('behavior: a spec at every bound passes all three', async () => {
    const spec = largest()
    const now = Number((await client.getBlock()).timestamp)
    expect(v.safeParse(SessionSpecSchema, sessionSpecToWire(spec)).success).toBe(true)
    expect(validateSessionSpec(spec, { now, account, bannedTargets: modules })).toBe(spec)
    const packed = encodeSessionSpec(spec)
    expect(size(packed)).toBeLessThanOrEqual(sessionSpecBounds.maxPackedLength)
    expect(await createSession(packed)).toEqual({ id: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
  }, 120_000)

  test('error: a fee limit past maxFeeLimit is refused by all three alike', async () => {
    const spec: SessionSpec = { ...largest(), feeLimit: lifetime(maxFeeLimit + 1n) }
    const now = Number((await client.getBlock()).timestamp)
    expectRpcError(
      thrownBy(() => validateSessionSpec(spec, { now, account, bannedTargets: modules })),
      InvalidSessionSpecError,
      -32602,
      `Invalid session spec (malformed-limit at feeLimit.limit): must be between 0 and ${maxFeeLimit}`,
    )
    expect(await createSession(encodeSessionSpec(spec))).toEqual({
      error: 'InvalidUsageLimit',
      args: [1n, maxFeeLimit + 1n, 0n, maxFeeLimit],
    })
  }, 120_000)

  test('error: past the other bounds the wire schema and validateSessionSpec refuse alike', () => {
    const base = largest()
    const first = base.callPolicies[0]!
    const past: [string, SessionSpec][] = [
      ['callPolicies', { ...base, callPolicies: [...base.callPolicies, { ...first, target: addr(999) }] }],
      [
        'transferPolicies',
        {
          ...base,
          transferPolicies: [...base.transferPolicies, { ...base.transferPolicies[0]!, target: addr(998) }],
        },
      ],
      [
        'constraints',
        { ...base, callPolicies: [{ ...first, constraints: [...first.constraints, first.constraints[0]!] }] },
      ],
      [
        'index',
        {
          ...base,
          callPolicies: [
            { ...first, constraints: [{ ...first.constraints[0]!, index: maxConstraintIndex + 1 }] },
          ],
        },
      ],
      ['period', { ...base, feeLimit: allowance(1n, maxAllowancePeriod + 1) }],
      ['expiresAt', { ...base, expiresAt: maxExpiresAt + 1 }],
    ]
    for (const [what, spec] of past) {
      expect(v.safeParse(SessionSpecSchema, sessionSpecToWire(spec)).success, what).toBe(false)
      expectRpcError(
        thrownBy(() => validateSessionSpec(spec, { now: 1, account, bannedTargets: modules })),
        InvalidSessionSpecError,
        -32602,
        /^Invalid session spec \(malformed-(policy|limit) at /,
      )
    }
  })
})
