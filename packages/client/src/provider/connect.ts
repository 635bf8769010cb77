/**
 * `eth_requestAccounts` (sign up / log in in the popup), `eth_accounts`, `wallet_disconnect`.
 */
import { DisconnectedError } from '../Errors.js'
import { popupParams, providerParams } from './params.js'
import { connectWithSession } from './permissions.js'
import type { Handler, ProviderContext } from './types.js'

/** Connects through the popup; answers at once when connected. `[{ session }]` also creates a session. */
export const requestAccounts: Handler = (context, params) => {
  if (wantsSession(params)) return connectWithSession(context, params)
  popupParams('eth_requestAccounts', params)
  return connect(context)
}

// The connect request in flight per provider: a second connect while the popup is open joins it.
const connecting = new WeakMap<ProviderContext, Promise<`0x${string}`[]>>()

/** The connect part of `eth_requestAccounts`: one popup request, joined by a second connect while it runs. */
export function connect(context: ProviderContext): Promise<`0x${string}`[]> {
  const { connection, popup, chains } = context
  if (connection.address) return Promise.resolve([connection.address])
  const running = connecting.get(context)
  if (running && popup.isOpen) return running
  const connected = popup
    .request('eth_requestAccounts', [], connection.chainId)
    .then((result) => {
      const [address] = result.accounts as [`0x${string}`]
      const chainId = chains.some((c) => c.id === result.chainId)
        ? result.chainId
        : context.connection.chainId
      context.setConnected(address, chainId)
      return [address]
    })
    .finally(() => {
      if (connecting.get(context) === connected) connecting.delete(context)
    })
  connecting.set(context, connected)
  return connected
}

export const accounts: Handler = (context, params) => {
  providerParams('eth_accounts', params)
  const { address } = context.connection
  return Promise.resolve(address ? [address] : [])
}

/** Forgets the account and this dapp's sessions, closes the popup. */
export const disconnect: Handler = (context, params) => {
  providerParams('wallet_disconnect', params)
  context.popup.close()
  context.session?.forget(undefined)
  context.disconnect(new DisconnectedError('The dapp disconnected the SSO account.'))
  return Promise.resolve(null)
}

function wantsSession(params: unknown): boolean {
  return (
    Array.isArray(params) && typeof params[0] === 'object' && params[0] !== null && 'session' in params[0]
  )
}
