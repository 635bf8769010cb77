/**
 * ERC-7715 permissions as one session spec (docs/interfaces.md, "Execution permissions (ERC-7715)"): each
 * permission type becomes call and transfer policies of the SessionKeyValidator, held exactly or by a narrower
 * policy, or refused. Pure functions, no viem.
 */
import { sessionSpecBounds } from '@sso/contracts-abi'
import * as v from 'valibot'
import {
  type ExecutionPermissionRequest,
  type ExecutionPermissionType,
  ExpiryRule,
  executionPermissionRuleTypes,
  executionPermissionTypes,
  PayeeRule,
  permissionData,
  UnsupportedPermissionError,
} from './Erc7715.js'
import { InvalidParamsError } from './Errors.js'

/** `transfer(address,uint256)` of ERC-20. */
const transferSelector = '0xa9059cbb'
const zeroWord = `0x${'00'.repeat(32)}` as const

type Limit =
  | { type: 'unlimited' }
  | { type: 'lifetime'; limit: `0x${string}` }
  | { type: 'allowance'; limit: `0x${string}`; period: number }

/** What the session manager's `prepareGrant` takes: a spec without its signer, or with an external one. */
export type PermissionGrant = {
  signer?: `0x${string}`
  expiresAt: number
  feeLimit: unknown
  callPolicies: unknown[]
  transferPolicies: unknown[]
}

/** Each request as granted (a stream may become a periodic allowance), and the session that holds them all. */
export type MappedPermissions = { grant: PermissionGrant; granted: ExecutionPermissionRequest[] }

const q = (value: bigint): `0x${string}` => `0x${value.toString(16)}`
const word = (address: string): `0x${string}` => `0x${'00'.repeat(12)}${address.slice(2).toLowerCase()}`

/**
 * The session spec that grants `requests` (all for `chainId`), and each request as granted. Throws
 * {@link UnsupportedPermissionError} (or -32602 for malformed data) and grants nothing when any request can't be
 * held exactly or by a narrower policy.
 *
 * @example
 * ```ts
 * const { grant } = permissionsToGrant([{ chainId: '0x7a69', permission: { type: 'erc20-token-periodic',
 *   data: { tokenAddress, periodAmount: '0x64', periodDuration: 86400 }, isAdjustmentAllowed: false },
 *   rules: [{ type: 'expiry', data: { timestamp } }] }], { now, feeLimit: 10n ** 16n })
 * ```
 */
export function permissionsToGrant(
  requests: readonly ExecutionPermissionRequest[],
  options: { now: number; feeLimit: bigint },
): MappedPermissions {
  const { now } = options
  const first = requests[0]
  if (!first)
    throw new InvalidParamsError('wallet_requestExecutionPermissions needs at least one permission.')
  const grant: PermissionGrant = {
    expiresAt: 0,
    feeLimit: { type: 'lifetime', limit: q(options.feeLimit) },
    callPolicies: [],
    transferPolicies: [],
  }
  const to = first.to ?? undefined
  if (to) grant.signer = to
  const granted: ExecutionPermissionRequest[] = []
  let expiresAt = Number.POSITIVE_INFINITY
  requests.forEach((request, index) => {
    const type = request.permission.type
    if ((request.to ?? undefined)?.toLowerCase() !== to?.toLowerCase())
      throw new UnsupportedPermissionError(
        type,
        'several-grantees',
        `params[${index}].to differs from params[0].to: the permissions of one request go to one session key.`,
      )
    const rules = readRules(request, index, now)
    expiresAt = Math.min(expiresAt, rules.expiry)
    const mapped = mapPermission(request, index, rules.payee, { now, expiresAt: rules.expiry })
    grant.callPolicies.push(...mapped.callPolicies)
    grant.transferPolicies.push(...mapped.transferPolicies)
    if (mapped.feeLimit !== undefined) grant.feeLimit = mapped.feeLimit
    granted.push({ ...request, permission: mapped.permission })
  })
  grant.expiresAt = expiresAt
  return { grant, granted }
}

function readRules(request: ExecutionPermissionRequest, index: number, now: number) {
  const type = request.permission.type
  let expiry: number | undefined
  let payee: `0x${string}` | undefined
  for (const rule of request.rules ?? []) {
    if (rule.type === 'expiry') {
      const parsed = v.safeParse(ExpiryRule, rule)
      if (!parsed.success)
        throw new InvalidParamsError(`params[${index}] has a malformed expiry rule.`, {
          details: v.summarize(parsed.issues),
        })
      expiry = parsed.output.data.timestamp
    } else if (rule.type === 'payee') {
      const parsed = v.safeParse(PayeeRule, rule)
      if (!parsed.success)
        throw new InvalidParamsError(`params[${index}] has a malformed payee rule.`, {
          details: v.summarize(parsed.issues),
        })
      const [only, ...more] = parsed.output.data.addresses
      if (more.length > 0)
        throw new UnsupportedPermissionError(
          type,
          'several-payees',
          `params[${index}]: a payee rule may name one address: each limit of a session holds for one recipient.`,
        )
      payee = only
    } else
      throw new UnsupportedPermissionError(
        type,
        'unsupported-rule',
        `params[${index}]: the rule "${rule.type}" is not supported (supported: ${executionPermissionRuleTypes.join(', ')}).`,
      )
  }
  if (expiry === undefined)
    throw new UnsupportedPermissionError(
      type,
      'expiry-required',
      `params[${index}] needs an expiry rule: SSO sessions always expire.`,
    )
  if (expiry <= now)
    throw new UnsupportedPermissionError(
      type,
      'expired',
      `params[${index}]: the expiry ${expiry} is in the past.`,
    )
  return { expiry, payee }
}

type Mapped = {
  callPolicies: unknown[]
  transferPolicies: unknown[]
  feeLimit?: unknown
  permission: ExecutionPermissionRequest['permission']
}

function mapPermission(
  request: ExecutionPermissionRequest,
  index: number,
  payee: `0x${string}` | undefined,
  time: { now: number; expiresAt: number },
): Mapped {
  const { permission } = request
  const type = permission.type
  if (!(executionPermissionTypes as readonly string[]).includes(type))
    throw new UnsupportedPermissionError(
      type,
      'unsupported-type',
      `params[${index}]: the permission type "${type}" is not supported (supported: ${executionPermissionTypes.join(', ')}).`,
    )
  const schema = permissionData[type as ExecutionPermissionType]
  const parsed = v.safeParse(schema, permission.data)
  if (!parsed.success)
    throw new InvalidParamsError(`params[${index}].permission.data is malformed for "${type}".`, {
      details: v.summarize(parsed.issues),
    })
  const data = parsed.output as Record<string, unknown>
  if (type === 'sso-session') {
    const own = data as { feeLimit?: unknown; callPolicies?: unknown[]; transferPolicies?: unknown[] }
    return {
      callPolicies: own.callPolicies ?? [],
      transferPolicies: own.transferPolicies ?? [],
      ...(own.feeLimit === undefined ? {} : { feeLimit: own.feeLimit }),
      permission,
    }
  }
  const startTime = data.startTime as number | null | undefined
  if (typeof startTime === 'number' && startTime > time.now)
    throw new UnsupportedPermissionError(
      type,
      'future-start',
      `params[${index}]: startTime ${startTime} is in the future; an SSO session is usable from its creation.`,
    )
  const amount = type.endsWith('allowance') ? 'allowanceAmount' : 'periodAmount'
  let limit: Limit
  let granted = permission
  if (type.endsWith('stream')) {
    const stream = streamToAllowance(data, type, index, time, permission.isAdjustmentAllowed)
    limit = stream.limit
    granted = {
      type: type.startsWith('native') ? 'native-token-periodic' : 'erc20-token-periodic',
      data: {
        ...(data.tokenAddress ? { tokenAddress: data.tokenAddress } : {}),
        periodAmount: stream.limit.limit,
        periodDuration: stream.limit.period,
        ...(data.justification ? { justification: data.justification } : {}),
      },
      isAdjustmentAllowed: permission.isAdjustmentAllowed ?? true,
    }
  } else if (type.endsWith('periodic'))
    limit = { type: 'allowance', limit: data[amount] as `0x${string}`, period: data.periodDuration as number }
  else limit = { type: 'lifetime', limit: data[amount] as `0x${string}` }

  if (type.startsWith('native')) {
    if (!payee)
      throw new UnsupportedPermissionError(
        type,
        'payee-required',
        `params[${index}]: "${type}" needs a payee rule with one address: an SSO session sends ETH only to named recipients.`,
      )
    return {
      callPolicies: [],
      transferPolicies: [{ target: payee, maxValuePerUse: limit.limit, valueLimit: limit }],
      permission: granted,
    }
  }
  const constraints: unknown[] = []
  if (payee)
    constraints.push({ condition: 'equal', index: 0, refValue: word(payee), limit: { type: 'unlimited' } })
  constraints.push({ condition: 'unconstrained', index: 1, refValue: zeroWord, limit })
  return {
    callPolicies: [
      {
        target: data.tokenAddress,
        selector: transferSelector,
        maxValuePerUse: '0x0',
        valueLimit: { type: 'unlimited' },
        constraints,
      },
    ],
    transferPolicies: [],
    permission: granted,
  }
}

/**
 * A stream (`initialAmount` now, then `amountPerSecond`, at most `maxAmount`) as a periodic allowance that is never
 * ahead of it: an allowance of `amountPerSecond × P` per `P` seconds lets at most two periods' worth through before
 * the stream has unlocked as much, so `P` is the largest period whose two allowances fit in what the stream has
 * unlocked by now. Refused when no such period exists or `maxAmount` could be passed before the expiry.
 */
function streamToAllowance(
  data: Record<string, unknown>,
  type: string,
  index: number,
  time: { now: number; expiresAt: number },
  isAdjustmentAllowed: boolean | undefined,
): { limit: { type: 'allowance'; limit: `0x${string}`; period: number } } {
  if (isAdjustmentAllowed === false)
    throw new UnsupportedPermissionError(
      type,
      'stream-needs-adjustment',
      `params[${index}]: a stream is granted as a periodic allowance, which needs isAdjustmentAllowed: true.`,
    )
  const rate = BigInt(data.amountPerSecond as string)
  const initial = data.initialAmount ? BigInt(data.initialAmount as string) : 0n
  const startTime = typeof data.startTime === 'number' ? data.startTime : time.now
  if (rate === 0n)
    throw new UnsupportedPermissionError(type, 'stream-rate', `params[${index}]: amountPerSecond is 0.`)
  const unlocked = initial + rate * BigInt(time.now - startTime)
  const byHalf = unlocked / (2n * rate)
  const period = Number(
    byHalf > BigInt(sessionSpecBounds.maxAllowancePeriod) ? sessionSpecBounds.maxAllowancePeriod : byHalf,
  )
  if (period < 1)
    throw new UnsupportedPermissionError(
      type,
      'stream-not-expressible',
      `params[${index}]: this stream can't be held by a periodic allowance without getting ahead of it: give an initialAmount of at least 2 × amountPerSecond × the period you need, or ask for a periodic permission.`,
    )
  const limit = rate * BigInt(period)
  if (data.maxAmount) {
    const max = BigInt(data.maxAmount as string)
    const periods = BigInt(Math.floor((time.expiresAt - time.now) / period) + 2)
    if (limit * periods > max)
      throw new UnsupportedPermissionError(
        type,
        'stream-max-amount',
        `params[${index}]: as a periodic allowance of ${limit} per ${period} s this stream could pass its maxAmount ${max} before the expiry; ask for an earlier expiry or a periodic permission.`,
      )
  }
  return { limit: { type: 'allowance', limit: q(limit), period } }
}

/**
 * The ERC-7715 answer for each granted request: the request as granted, plus the session id as `context`, no
 * `dependencies` (the grant deploys the account) and the SessionKeyValidator as `delegationManager`.
 */
export function permissionResponses(
  granted: readonly ExecutionPermissionRequest[],
  result: { sessionId: `0x${string}`; account: `0x${string}`; expiresAt: number },
  validator: `0x${string}`,
): ExecutionPermissionResponse[] {
  return granted.map((request) => {
    const { to, rules, ...rest } = request
    return {
      ...rest,
      from: result.account,
      ...(to ? { to } : {}),
      rules: [
        ...(rules ?? []).filter((rule) => rule.type !== 'expiry'),
        { type: 'expiry', data: { timestamp: result.expiresAt } },
      ],
      context: result.sessionId,
      dependencies: [],
      delegationManager: validator,
    }
  })
}

export type ExecutionPermissionResponse = Omit<ExecutionPermissionRequest, 'from' | 'to'> & {
  from: `0x${string}`
  to?: `0x${string}`
  context: `0x${string}`
  dependencies: { factory: `0x${string}`; factoryData: `0x${string}` }[]
  delegationManager: `0x${string}`
}
