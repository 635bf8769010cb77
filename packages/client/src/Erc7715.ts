/**
 * ERC-7715 execution permissions as SSO sessions (docs/interfaces.md, "Execution permissions (ERC-7715)"): the
 * permission types dapps request (`wallet_requestExecutionPermissions`, and viem's draft `wallet_grantPermissions`
 * shape) become one session spec for the SessionKeyValidator. Pure functions, no viem (the provider entry imports
 * them). A permission our on-chain policy cannot hold exactly is granted as the closest policy that never allows
 * more than asked, or refused with an {@link UnsupportedPermissionError}.
 *
 * This file: the permission types and their wire shapes. Erc7715Grant.ts maps them to a session, Erc7715Draft.ts
 * reads viem's draft `wallet_grantPermissions` shape.
 */
import { sessionSpecBounds } from '@sso/contracts-abi'
import * as v from 'valibot'
import { InvalidParamsError } from './Errors.js'
import { Address, Quantity } from './RpcShapes.js'

/** The permission types `wallet_requestExecutionPermissions` grants; `sso-session` is our own session spec. */
export const executionPermissionTypes = [
  'native-token-allowance',
  'native-token-periodic',
  'native-token-stream',
  'erc20-token-allowance',
  'erc20-token-periodic',
  'erc20-token-stream',
  'sso-session',
] as const
export type ExecutionPermissionType = (typeof executionPermissionTypes)[number]

/** The rule types we honour: `expiry` (required), `payee` (one recipient). */
export const executionPermissionRuleTypes = ['expiry', 'payee'] as const

/** Gas the account may pay for a session made from ERC-7715 permissions when the dapp does not say: 0.01 ETH. */
export const defaultPermissionFeeLimit = 10n ** 16n

/**
 * -32602: the wallet cannot grant this permission as asked (type, rule, or a value our on-chain policy cannot
 * hold without allowing more). `data: { reason: 'unsupported-permission', type, problem }`; nothing was granted.
 */
export class UnsupportedPermissionError extends InvalidParamsError {
  override name = 'UnsupportedPermissionError'
  readonly type: string
  readonly problem: string
  constructor(type: string, problem: string, message: string) {
    super(message, { data: { reason: 'unsupported-permission', type, problem } })
    this.type = type
    this.problem = problem
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wire shapes (ERC-7715: amounts as hex quantities, times in unix seconds)

export const Seconds = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(0),
  v.maxValue(sessionSpecBounds.maxExpiresAt),
)
const Period = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(1),
  v.maxValue(sessionSpecBounds.maxAllowancePeriod),
)
const Justification = v.optional(v.pipe(v.string(), v.maxLength(1000)))

const Rule = v.object({ type: v.string(), data: v.optional(v.record(v.string(), v.unknown())) })
export const ExpiryRule = v.object({ type: v.literal('expiry'), data: v.object({ timestamp: Seconds }) })
export const PayeeRule = v.object({
  type: v.literal('payee'),
  data: v.object({ addresses: v.pipe(v.array(Address), v.minLength(1)) }),
})

const Permission = v.object({
  type: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  data: v.record(v.string(), v.unknown()),
  isAdjustmentAllowed: v.optional(v.boolean()),
})

/** One entry of `wallet_requestExecutionPermissions` params. */
export const ExecutionPermissionRequest = v.object({
  chainId: Quantity,
  from: v.optional(v.nullable(Address)),
  to: v.optional(v.nullable(Address)),
  permission: Permission,
  rules: v.optional(v.nullable(v.array(Rule))),
})
export type ExecutionPermissionRequest = v.InferOutput<typeof ExecutionPermissionRequest>

/** `wallet_requestExecutionPermissions` params: the permissions to grant, together (one session). */
export const ExecutionPermissionsParams = v.pipe(
  v.array(ExecutionPermissionRequest),
  v.minLength(1),
  v.maxLength(sessionSpecBounds.maxCallPolicies),
)

const token = { tokenAddress: Address }
const start = { startTime: v.optional(v.nullable(Seconds)), justification: Justification }
export const permissionData = {
  'native-token-allowance': v.object({ allowanceAmount: Quantity, ...start }),
  'native-token-periodic': v.object({ periodAmount: Quantity, periodDuration: Period, ...start }),
  'native-token-stream': v.object({
    amountPerSecond: Quantity,
    initialAmount: v.optional(v.nullable(Quantity)),
    maxAmount: v.optional(v.nullable(Quantity)),
    ...start,
  }),
  'erc20-token-allowance': v.object({ ...token, allowanceAmount: Quantity, ...start }),
  'erc20-token-periodic': v.object({ ...token, periodAmount: Quantity, periodDuration: Period, ...start }),
  'erc20-token-stream': v.object({
    ...token,
    amountPerSecond: Quantity,
    initialAmount: v.optional(v.nullable(Quantity)),
    maxAmount: v.optional(v.nullable(Quantity)),
    ...start,
  }),
  // Our own spec without its signer and expiry (those come from `to` and the expiry rule); checked in full by the
  // session manager and again by the popup.
  'sso-session': v.object({
    feeLimit: v.optional(v.unknown()),
    callPolicies: v.optional(v.array(v.unknown())),
    transferPolicies: v.optional(v.array(v.unknown())),
  }),
} as const
