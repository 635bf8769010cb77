/**
 * `personal_sign` and `eth_signTypedData_v4`: the passkey signs in the popup (ERC-1271, ERC-6492 when undeployed).
 */
import type { PopupParams } from '../RpcSchema.js'
import { popupParams, refuseConflicts } from './params.js'
import type { Handler } from './types.js'

export const personalSign: Handler = (context, params) => {
  const [message, address] = popupParams('personal_sign', params)
  context.requireAccount(address, 'params[1]')
  return context.popup.request('personal_sign', [message, address], context.connection.chainId)
}

export const signTypedData: Handler = (context, params) => {
  const valid = popupParams('eth_signTypedData_v4', params)
  const [address] = valid
  context.requireAccount(address, 'params[0]')
  refuseConflicts('eth_signTypedData_v4', valid, context.connection.chainId)
  // Forward what the dapp sent (the popup validates it again).
  const raw = (params as unknown[])[1] as PopupParams<'eth_signTypedData_v4'>[1]
  return context.popup.request('eth_signTypedData_v4', [address, raw], context.connection.chainId)
}
