/**
 * ERC-7715 under its current names: `wallet_requestExecutionPermissions`, `wallet_revokeExecutionPermission`,
 * `wallet_getSupportedExecutionPermissions`, `wallet_getGrantedExecutionPermissions`. The requested permissions
 * become one session (Erc7715Grant.ts), approved in the popup's session screen (docs/interfaces.md, "Execution
 * permissions (ERC-7715)").
 */
import * as v from 'valibot'
import {
  ExecutionPermissionsParams,
  executionPermissionRuleTypes,
  executionPermissionTypes,
} from '../Erc7715.js'
import { permissionResponses, permissionsToGrant } from '../Erc7715Grant.js'
import { InvalidParamsError, UnsupportedMethodError } from '../Errors.js'
import { toQuantity } from '../internal/hex.js'
import { Hash } from '../RpcSchema.js'
import type { SessionHandler } from '../SessionHandler.js'
import { refuseStatedConflicts } from './params.js'
import { grantInPopup } from './permissions.js'
import { waitForReceipt } from './receipt.js'
import type { Handler, ProviderContext } from './types.js'

export const requestExecutionPermissions: Handler = (context, params) => {
  const session = sessionOf(context, 'wallet_requestExecutionPermissions')
  const parsed = v.safeParse(ExecutionPermissionsParams, params)
  if (!parsed.success)
    throw new InvalidParamsError('Invalid params for "wallet_requestExecutionPermissions".', {
      details: v.summarize(parsed.issues),
    })
  const requests = parsed.output
  requests.forEach((request, i) => {
    refuseStatedConflicts(context, { chainId: request.chainId }, `params[${i}]`)
    if (request.from && context.connection.address) context.requireAccount(request.from, `params[${i}].from`)
  })
  const { grant, granted } = permissionsToGrant(requests, {
    now: Math.floor(Date.now() / 1000),
    feeLimit: session.permissionFeeLimit,
  })
  const { chainId } = context.connection
  const from = requests.find((r) => r.from)?.from ?? undefined
  const prepared = session.prepareGrant(grant, { account: context.connection.address ?? from, chainId })
  return grantInPopup(context, prepared, chainId).then(({ result }) => {
    const responses = permissionResponses(
      granted,
      { ...result, expiresAt: grant.expiresAt },
      session.validatorOf(chainId),
    )
    context.permissions.add(result.account, chainId, responses, grant.expiresAt)
    return responses
  })
}

const RevokeParams = v.union([
  v.object({ permissionContext: Hash }),
  v.tuple([v.object({ permissionContext: Hash })]),
])

export const revokeExecutionPermission: Handler = (context, params) => {
  const session = sessionOf(context, 'wallet_revokeExecutionPermission')
  const parsed = v.safeParse(RevokeParams, params)
  if (!parsed.success)
    throw new InvalidParamsError(
      'Invalid params for "wallet_revokeExecutionPermission": pass { permissionContext } (a session id).',
      { details: v.summarize(parsed.issues) },
    )
  const { permissionContext } = Array.isArray(parsed.output) ? parsed.output[0] : parsed.output
  const { chainId } = context.connection
  const account = context.requireAccount()
  const revoke = session.prepareRevoke({ id: permissionContext }, { account, chainId })
  const finish = (sent: { userOpHash: `0x${string}` }) =>
    waitForReceipt(context.chain(chainId).bundlerUrl, sent.userOpHash).then((r) => ({
      transactionHash: r.receipt.transactionHash,
    }))
  return context.popup
    .request('wallet_revokePermissions', revoke.params, chainId, { finish })
    .then(revoke.finish)
    .then(() => {
      context.permissions.remove(account, chainId, { context: permissionContext })
      return {}
    })
}

export const getSupportedExecutionPermissions: Handler = (context, params) => {
  sessionOf(context, 'wallet_getSupportedExecutionPermissions')
  noParams('wallet_getSupportedExecutionPermissions', params)
  const chainIds = context.chains.map((c) => toQuantity(c.id))
  return Promise.resolve(
    Object.fromEntries(
      executionPermissionTypes.map((type) => [
        type,
        { chainIds, ruleTypes: [...executionPermissionRuleTypes] },
      ]),
    ),
  )
}

export const getGrantedExecutionPermissions: Handler = (context, params) => {
  sessionOf(context, 'wallet_getGrantedExecutionPermissions')
  noParams('wallet_getGrantedExecutionPermissions', params)
  const account = context.connection.address
  if (!account) return Promise.resolve([])
  return Promise.resolve(context.permissions.list(account, context.connection.chainId))
}

function noParams(method: string, params: unknown) {
  if (params !== undefined && !(Array.isArray(params) && params.length === 0))
    throw new InvalidParamsError(`"${method}" takes no params.`)
}

function sessionOf(context: ProviderContext, method: string): SessionHandler {
  if (!context.session)
    throw new UnsupportedMethodError(
      `"${method}" needs sessions: createProvider({ session: createSessionManager() }) from @sso/client/session.`,
    )
  return context.session
}
