/**
 * The provider's state behind {@link ProviderContext}: the connection, its persistence and its events.
 */
import type { RpcError } from '../Errors.js'
import { UnauthorizedError } from '../Errors.js'
import { createEmitter } from '../internal/emitter.js'
import { sameAddress, toQuantity } from '../internal/hex.js'
import type { Popup } from '../Popup.js'
import {
  type Connection,
  createCallsIndex,
  createPermissionsIndex,
  restoreConnection,
  saveConnection,
} from './storage.js'
import type { ProviderContext, ProviderEvents, ProviderOptions, ProviderStorage } from './types.js'

export function createContext(parameters: {
  options: ProviderOptions
  storage: ProviderStorage
  popup: Popup
}): ProviderContext {
  const { options, storage, popup } = parameters
  const chains = options.chains
  const prefix = options.storageKey ?? 'sso'
  const connectionKey = `${prefix}.connection`
  const emitter = createEmitter<ProviderEvents>()
  // Why the account went away, when not by the dapp's own wallet_disconnect: later 4100s say it.
  let disconnectedBecause: string | undefined
  let connection: Connection = restoreConnection(
    storage,
    connectionKey,
    chains.map((c) => c.id),
    chains[0].id,
  )

  const context: ProviderContext = {
    options,
    chains,
    popup,
    session: options.session,
    emitter,
    calls: createCallsIndex(storage, `${prefix}.calls`),
    permissions: createPermissionsIndex(storage, `${prefix}.permissions`),
    get connection() {
      return connection
    },
    chain(id = connection.chainId) {
      return chains.find((c) => c.id === id) ?? chains[0]
    },
    requireAccount(address, field = 'address') {
      if (!connection.address)
        throw new UnauthorizedError(
          `Not connected: ${disconnectedBecause ? `${disconnectedBecause} ` : ''}call eth_requestAccounts first (from a click handler).`,
        )
      if (address !== undefined && !sameAddress(address, connection.address))
        throw new UnauthorizedError(
          `The request is for another account: ${field} is ${address} but the connected SSO account (eth_accounts) is ${connection.address}.`,
        )
      return connection.address
    },
    setConnected(address, chainId) {
      const changed = !sameAddress(connection.address, address)
      disconnectedBecause = undefined
      const chainChanged = connection.chainId !== chainId
      connection = { address, chainId }
      saveConnection(storage, connectionKey, connection)
      emitter.emit('connect', { chainId: toQuantity(chainId) })
      if (chainChanged) emitter.emit('chainChanged', toQuantity(chainId))
      if (changed) emitter.emit('accountsChanged', [address])
    },
    setChain(chainId) {
      if (chainId === connection.chainId) return
      connection = { ...connection, chainId }
      saveConnection(storage, connectionKey, connection)
      emitter.emit('chainChanged', toQuantity(chainId))
    },
    disconnect(error: RpcError, why?: string) {
      const wasConnected = connection.address !== undefined
      disconnectedBecause = why
      connection = { chainId: connection.chainId }
      saveConnection(storage, connectionKey, undefined)
      if (!wasConnected) return
      emitter.emit('accountsChanged', [])
      emitter.emit('disconnect', error)
    },
  }
  options.session?.attach({ emit: emitter.emit, chain: (id) => chains.find((c) => c.id === id) })
  return context
}
