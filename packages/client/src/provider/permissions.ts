/**
 * Sessions: `wallet_grantPermissions`, `wallet_revokePermissions`, and `eth_requestAccounts` with `[{ session }]`
 * (connect and create the session in one popup). The session manager checks and completes the dapp's params (the
 * session public key) synchronously, before the popup opens (docs/architecture.md, section 5).
 */
import * as v from 'valibot'
import {
  DraftPermissionsRequest,
  draftResponse,
  draftToRequests,
  isDraftPermissionsRequest,
} from '../Erc7715Draft.js'
import { permissionsToGrant } from '../Erc7715Grant.js'
import { InternalError, InvalidParamsError, UnsupportedMethodError } from '../Errors.js'
import { sameAddress, toQuantity } from '../internal/hex.js'
import type { Submitted } from '../RpcSchema.js'
import type { SessionHandler } from '../SessionHandler.js'
import { connect } from './connect.js'
import { refuseStatedConflicts } from './params.js'
import { waitForReceipt } from './receipt.js'
import type { Handler, ProviderContext } from './types.js'

/**
 * The older name of ERC-7715, deprecated: use `wallet_requestExecutionPermissions`. Takes our own session request,
 * or the draft shape viem's experimental `grantPermissions` sends (`{ expiry, permissions, signer? }`).
 */
export const grantPermissions: Handler = (context, params) => {
  const [session, list] = sessionParams(context, 'wallet_grantPermissions', params)
  refuseStatedConflicts(context, list[0], 'params[0]')
  if (isDraftPermissionsRequest(list[0])) return grantDraft(context, session, list[0])
  const { chainId, address } = context.connection
  const grant = session.prepareGrant(list[0], { account: address, chainId })
  return grantInPopup(context, grant, chainId).then(({ finished }) => finished)
}

export const revokePermissions: Handler = (context, params) => {
  const [session, list] = sessionParams(context, 'wallet_revokePermissions', params)
  refuseStatedConflicts(context, list[0], 'params[0]')
  const { chainId } = context.connection
  const revoke = session.prepareRevoke(list[0], { account: context.requireAccount(), chainId })
  const finish = (sent: Submitted) =>
    waitForReceipt(context.chain(chainId).bundlerUrl, sent.userOpHash).then((r) => ({
      transactionHash: r.receipt.transactionHash,
    }))
  const [which] = revoke.params
  return context.popup
    .request('wallet_revokePermissions', revoke.params, chainId, { finish })
    .then(revoke.finish)
    .then((result) => {
      const account = context.connection.address
      if (account)
        context.permissions.remove(account, chainId, 'all' in which ? which : { context: which.id })
      return result
    })
}

function grantDraft(context: ProviderContext, session: SessionHandler, entry: unknown) {
  const parsed = v.safeParse(DraftPermissionsRequest, entry)
  if (!parsed.success)
    throw new InvalidParamsError('Invalid params for "wallet_grantPermissions".', {
      details: v.summarize(parsed.issues),
    })
  const { chainId, address } = context.connection
  const { grant } = permissionsToGrant(draftToRequests(parsed.output, toQuantity(chainId)), {
    now: Math.floor(Date.now() / 1000),
    feeLimit: session.permissionFeeLimit,
  })
  const prepared = session.prepareGrant(grant, { account: address, chainId })
  return grantInPopup(context, prepared, chainId).then(({ result }) =>
    draftResponse(parsed.output, { ...result, expiresAt: grant.expiresAt }),
  )
}

/**
 * Asks the popup for the session the manager prepared, then lets the manager keep it. The account that granted it
 * becomes the connected one (the popup may have signed up or switched accounts).
 */
export function grantInPopup(
  context: ProviderContext,
  prepared: ReturnType<SessionHandler['prepareGrant']>,
  chainId: number,
) {
  return context.popup
    .request('wallet_grantPermissions', prepared.params, chainId, { finish: finishGrant(context, chainId) })
    .then(async (result) => {
      if (!sameAddress(result.account, context.connection.address))
        context.setConnected(result.account, chainId)
      return { result, finished: await prepared.finish(result) }
    })
}

/** `eth_requestAccounts` with `[{ session }]`: both requests go to the same popup, opened once. */
export const connectWithSession: Handler = (context, params) => {
  const [session, list] = sessionParams(context, 'eth_requestAccounts', params)
  const [{ session: request }] = list as [{ session: unknown }]
  refuseStatedConflicts(context, request, 'params[0].session')
  const { chainId, address } = context.connection
  const grant = session.prepareGrant(request, { account: address, chainId })
  const connected = connect(context)
  const granted = context.popup.request('wallet_grantPermissions', grant.params, chainId, {
    finish: finishGrant(context, chainId),
  })
  return Promise.all([connected, granted]).then(async ([accounts, result]) => {
    await grant.finish(result)
    return accounts
  })
}

/** A session whose userOp was sent, then the popup went away: the receipt is read from the bundler. */
export function finishGrant(context: ProviderContext, chainId: number) {
  return async (sent: Submitted) => {
    if (!sent.sessionId)
      throw new InternalError(`The SSO popup sent user operation ${sent.userOpHash} without its session id.`)
    const receipt = await waitForReceipt(context.chain(chainId).bundlerUrl, sent.userOpHash)
    return {
      sessionId: sent.sessionId,
      account: sent.account,
      chainId,
      transactionHash: receipt.receipt.transactionHash,
    }
  }
}

function sessionParams(
  context: ProviderContext,
  method: string,
  params: unknown,
): [SessionHandler, readonly unknown[]] {
  if (!context.session)
    throw new UnsupportedMethodError(
      `"${method}" needs sessions: createProvider({ session: createSessionManager() }) from @sso/client/session.`,
    )
  const list = params === undefined ? [] : params
  if (!Array.isArray(list)) throw new InvalidParamsError(`Params of "${method}" must be an array.`)
  return [context.session, list]
}
