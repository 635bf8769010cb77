/**
 * `eth_sendTransaction`: one call as a userOp. In policy of a session the client signs it with the session key (no
 * popup); otherwise the passkey approves it in the popup. Answers the hash of the transaction that included it.
 */
import type { PopupParams, Submitted } from '../RpcSchema.js'
import { checkCapabilities, popupParams, refuseConflicts, withPaymaster } from './params.js'
import { waitForReceipt } from './receipt.js'
import type { Handler } from './types.js'

export const sendTransaction: Handler = (context, params) => {
  const valid = popupParams('eth_sendTransaction', params)
  const [tx, capabilities] = valid
  const { chainId } = context.connection
  context.requireAccount(tx.from, 'params[0].from')
  refuseConflicts('eth_sendTransaction', valid, chainId)
  checkCapabilities(capabilities)
  const paymaster = withPaymaster(context, capabilities)
  // The popup refuses (4100) to send from another account than the one this dapp was given.
  const sent = { ...tx, from: tx.from ?? context.requireAccount() }
  const out = (paymaster ? [sent, paymaster] : [sent]) as PopupParams<'eth_sendTransaction'>
  // Sent, then the popup went away: the receipt is read from the bundler.
  const finish = (sent: Submitted) =>
    waitForReceipt(context.chain(chainId).bundlerUrl, sent.userOpHash).then((r) => r.receipt.transactionHash)
  const viaPopup = () => context.popup.request('eth_sendTransaction', out, chainId, { finish })
  const account = context.requireAccount()
  const { session } = context
  // A paymaster service the dapp names is honoured by the popup; session sends pay as the session manager says.
  if (!session?.has(account, chainId) || capabilities?.paymasterService) return viaPopup()
  const data = tx.data ?? tx.input
  const call = { to: tx.to, ...(data ? { data } : {}), value: tx.value ? BigInt(tx.value) : 0n }
  const viaSession = session.send({ account, chainId, calls: [call], wait: true }, viaPopup)
  if ('popup' in viaSession) return viaSession.popup
  return viaSession.session.then((r) => ('fallback' in r ? r.fallback : r.transactionHash))
}
