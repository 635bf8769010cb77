/**
 * `wallet_sendCalls` (EIP-5792): an atomic batch as one userOp, through a session or the popup. Answers `{ id }`
 * at once (the dapp's own id, or the userOp hash) and remembers which userOp the id names;
 * `wallet_showCallsStatus` shows a remembered batch in the popup.
 */
import { DuplicateIdError, UnknownBundleIdError, UnsupportedChainIdError } from '../Errors.js'
import { chainIdParam, checkCapabilities, paymasterServiceOf, popupParams, withPaymaster } from './params.js'
import type { Handler } from './types.js'

export const sendCalls: Handler = (context, params) => {
  const [request] = popupParams('wallet_sendCalls', params)
  context.requireAccount(request.from, 'params[0].from')
  const chainId = chainIdParam(request.chainId, 'params[0].chainId')
  if (!context.chains.some((c) => c.id === chainId))
    throw new UnsupportedChainIdError(`Chain ${chainId} is not configured in the SSO provider.`)
  checkCapabilities(request.capabilities)
  for (const call of request.calls) checkCapabilities(call.capabilities)
  const paymasterService = paymasterServiceOf(request.capabilities)
  if (request.id !== undefined && context.calls.has(request.id))
    throw new DuplicateIdError(`A batch with id ${request.id} was already sent.`)
  const capabilities = withPaymaster(context, request.capabilities)
  // The popup refuses (4100) to send from another account than the one this dapp was given.
  const from = request.from ?? context.requireAccount()
  const out = capabilities ? { ...request, from, capabilities } : { ...request, from }
  const remember = (result: { id: string }) => {
    const id = request.id ?? result.id
    context.calls.remember(id, { chainId, hash: result.id, sentAt: Date.now() })
    return { ...result, id }
  }
  // Sent, then the popup went away: the id is the userOp hash all the same.
  const finish = (sent: { userOpHash: `0x${string}` }) => Promise.resolve({ id: sent.userOpHash })
  const viaPopup = () => context.popup.request('wallet_sendCalls', [out], chainId, { finish }).then(remember)
  const account = context.requireAccount()
  const { session } = context
  if (!session?.has(account, chainId)) return viaPopup()
  const calls = request.calls.map((c) => ({
    to: c.to,
    ...(c.data ? { data: c.data } : {}),
    value: c.value ? BigInt(c.value) : 0n,
  }))
  // A paymaster service the dapp names pays for the session's userOp too (else the session manager's payer).
  const sent = session.send({ account, chainId, calls, wait: false, paymasterService }, viaPopup)
  if ('popup' in sent) return sent.popup
  return sent.session.then((r) => ('fallback' in r ? r.fallback : remember({ id: r.userOpHash })))
}

export const showCallsStatus: Handler = (context, params) => {
  context.requireAccount()
  const [id] = popupParams('wallet_showCallsStatus', params)
  const known = context.calls.get(id)
  // An id this provider never sent can only be shown when it is a userOp hash (the bundler's key).
  if (!known && !/^0x[0-9a-fA-F]{64}$/.test(id))
    throw new UnknownBundleIdError(`No batch with id ${id} was sent through this provider.`)
  return context.popup.request(
    'wallet_showCallsStatus',
    [known?.hash ?? id],
    known?.chainId ?? context.connection.chainId,
  )
}
