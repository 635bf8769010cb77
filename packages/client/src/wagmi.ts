/**
 * `@sso/client/wagmi`: a `@wagmi/core` connector around the SSO provider.
 */
import { type CreateConnectorFn, createConnector } from '@wagmi/core'
import { type Address, getAddress, numberToHex } from 'viem'
import { BaseError } from './Errors.js'
import { type ChainConfig, createProvider, type Provider, type ProviderOptions } from './Provider.js'

export type SsoConnectorParameters = {
  /** Base URL of the auth server, e.g. `http://localhost:3002`. */
  authServerUrl: string
  /**
   * The chains of the provider. When omitted they are built from wagmi's `chains` (RPC URL =
   * `chain.rpcUrls.default.http[0]`) and {@link SsoConnectorParameters.bundlerUrls}.
   */
  chains?: readonly [ChainConfig, ...ChainConfig[]] | undefined
  /** Bundler URL per chain id, used when `chains` is omitted. Every wagmi chain needs one. */
  bundlerUrls?: Record<number, string> | undefined
  paymaster?: ProviderOptions['paymaster']
  timeout?: ProviderOptions['timeout']
  storage?: ProviderOptions['storage']
}

sso.type = 'sso' as const

/**
 * The SSO wagmi connector. `connect()` opens the popup synchronously, so call wagmi's `connect` from a click
 * handler.
 *
 * @example
 * ```ts
 * import { createConfig, http } from '@wagmi/core'
 * import { sso } from '@sso/client/wagmi'
 *
 * const config = createConfig({
 *   chains: [devnet],
 *   connectors: [sso({ authServerUrl: 'http://localhost:3002', bundlerUrls: { 31337: 'http://127.0.0.1:4337' } })],
 *   transports: { [devnet.id]: http() },
 * })
 * ```
 */
export function sso(parameters: SsoConnectorParameters): CreateConnectorFn<Provider> {
  return createConnector<Provider>((config) => {
    let provider: Provider | undefined
    let accountsChanged: ((accounts: readonly `0x${string}`[]) => void) | undefined
    let chainChanged: ((chainId: `0x${string}`) => void) | undefined
    let disconnect: (() => void) | undefined

    function chains(): readonly [ChainConfig, ...ChainConfig[]] {
      if (parameters.chains) return parameters.chains
      const list = config.chains.map((chain): ChainConfig => {
        const rpcUrl = chain.rpcUrls.default.http[0]
        const bundlerUrl = parameters.bundlerUrls?.[chain.id]
        if (!rpcUrl || !bundlerUrl)
          throw new BaseError(`The SSO connector needs an RPC URL and a bundler URL for chain ${chain.id}.`, {
            details: 'Pass `bundlerUrls: { [chainId]: url }` or `chains` to sso().',
          })
        return { id: chain.id, name: chain.name, rpcUrl, bundlerUrl }
      })
      return list as [ChainConfig, ...ChainConfig[]]
    }

    // Synchronous on purpose: `connect()` must open the popup inside the user's gesture.
    function getProviderSync(): Provider {
      provider ??= createProvider({
        authServerUrl: parameters.authServerUrl,
        chains: chains(),
        paymaster: parameters.paymaster,
        timeout: parameters.timeout,
        storage: parameters.storage,
      })
      return provider
    }

    return {
      id: 'sso',
      name: 'SSO',
      rdns: 'dev.sso',
      type: sso.type,
      async setup() {
        // The provider is created on first use, so a misconfiguration surfaces from connect() as a clear error.
      },
      // biome-ignore lint/suspicious/noExplicitAny: wagmi's generic `withCapabilities` return type
      connect(connectParameters = {}): Promise<any> {
        const current = getProviderSync()
        // No await before this request: it opens the popup.
        const requested = current.request({ method: 'eth_requestAccounts' }) as Promise<`0x${string}`[]>
        return (async () => {
          const accounts = (await requested).map((a) => getAddress(a))
          let chainId = await this.getChainId()
          if (connectParameters.chainId !== undefined && connectParameters.chainId !== chainId)
            chainId = (await this.switchChain!({ chainId: connectParameters.chainId })).id
          subscribe(current)
          if (connectParameters.withCapabilities)
            return { accounts: accounts.map((address) => ({ address, capabilities: {} })), chainId }
          return { accounts, chainId }
        })()
      },
      async disconnect() {
        const current = getProviderSync()
        unsubscribe(current)
        await current.request({ method: 'wallet_disconnect' })
      },
      async getAccounts() {
        const accounts = (await getProviderSync().request({ method: 'eth_accounts' })) as `0x${string}`[]
        return accounts.map((a) => getAddress(a))
      },
      async getChainId() {
        return Number(await getProviderSync().request({ method: 'eth_chainId' }))
      },
      async getProvider() {
        return getProviderSync()
      },
      async isAuthorized() {
        try {
          const accounts = await this.getAccounts()
          if (accounts.length > 0) subscribe(getProviderSync())
          return accounts.length > 0
        } catch {
          return false
        }
      },
      async switchChain({ chainId }) {
        const chain = config.chains.find((c) => c.id === chainId)
        await getProviderSync().request({
          method: 'wallet_switchEthereumChain',
          params: [{ chainId: numberToHex(chainId) }],
        })
        if (!chain) throw new BaseError(`Chain ${chainId} is not in the wagmi config.`)
        return chain
      },
      onAccountsChanged(accounts) {
        if (accounts.length === 0) this.onDisconnect()
        else config.emitter.emit('change', { accounts: accounts.map((a) => getAddress(a as Address)) })
      },
      onChainChanged(chainId) {
        config.emitter.emit('change', { chainId: Number(chainId) })
      },
      onDisconnect() {
        if (provider) unsubscribe(provider)
        config.emitter.emit('disconnect')
      },
    }

    function subscribe(current: Provider) {
      if (accountsChanged) return
      const self = config.emitter
      accountsChanged = (accounts) => {
        if (accounts.length === 0) {
          unsubscribe(current)
          self.emit('disconnect')
        } else self.emit('change', { accounts: accounts.map((a) => getAddress(a)) })
      }
      chainChanged = (chainId) => self.emit('change', { chainId: Number(chainId) })
      disconnect = () => {
        unsubscribe(current)
        self.emit('disconnect')
      }
      current.on('accountsChanged', accountsChanged)
      current.on('chainChanged', chainChanged)
      current.on('disconnect', disconnect)
    }

    function unsubscribe(current: Provider) {
      if (accountsChanged) current.removeListener('accountsChanged', accountsChanged)
      if (chainChanged) current.removeListener('chainChanged', chainChanged)
      if (disconnect) current.removeListener('disconnect', disconnect)
      accountsChanged = chainChanged = disconnect = undefined
    }
  })
}
