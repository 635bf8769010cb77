/**
 * `@sso/client/wagmi`: a `@wagmi/core` connector around the SSO provider.
 */
import { type CreateConnectorFn, createConnector } from '@wagmi/core'
import { type Address, getAddress, numberToHex } from 'viem'
import { BaseError } from './Errors.js'
import { type ChainConfig, createProvider, type Provider, type ProviderOptions } from './Provider.js'
import type { SessionManager } from './Session.js'
import type { SessionEventInfo } from './SessionHandler.js'
import type { SessionState } from './SessionPolicy.js'
import type { SessionRequest } from './SessionSpec.js'

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
  /**
   * Sessions (`createSessionManager()` of `@sso/client/session`): in-policy transactions are sent with the session
   * key, no popup. Await `session.ready()` before the first connect that asks for a session.
   */
  session?: SessionManager | undefined
  /**
   * A session to ask for at every connect: one popup connects and creates it (`eth_requestAccounts` with
   * `[{ session }]`). `connect(config, { connector, session })` asks for another one, `session: null` for none.
   */
  connectSession?: SessionRequest | (() => SessionRequest) | undefined
}

/** What {@link SsoConnector.getSession} returns: the dapp's session for the connected account and chain. */
export type SsoSession = {
  sessionId: `0x${string}`
  account: Address
  chainId: number
  /** Unix seconds. */
  expiresAt: number
}

/**
 * The SSO connector's own methods, beside wagmi's (reach them as `config.connectors[i]`). Session events come as
 * wagmi `message` events: `{ type: 'sessionExpired' | 'sessionRevoked' | 'sessionLimitNearlyUsed', data }`.
 */
export type SsoConnectorMethods = {
  /** The session this dapp holds for the connected account and chain, from memory (no chain read). */
  getSession(): Promise<SsoSession | undefined>
  /** The session's status and what its limits have left, read from the SessionKeyValidator. */
  getSessionState(): Promise<(SessionState & { sessionId: `0x${string}` }) | undefined>
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
export function sso(
  parameters: SsoConnectorParameters,
): CreateConnectorFn<Provider, SsoConnectorMethods, Record<string, unknown>> {
  return createConnector<Provider, SsoConnectorMethods>((config) => {
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
      if (provider) return provider
      provider = createProvider({
        authServerUrl: parameters.authServerUrl,
        chains: chains(),
        paymaster: parameters.paymaster,
        timeout: parameters.timeout,
        storage: parameters.storage,
        session: parameters.session,
      })
      if (parameters.session) forwardSessionEvents(provider)
      return provider
    }

    function forwardSessionEvents(current: Provider) {
      for (const type of ['sessionExpired', 'sessionRevoked', 'sessionLimitNearlyUsed'] as const)
        current.on(type, (data: SessionEventInfo) => config.emitter.emit('message', { type, data }))
    }

    async function connected(): Promise<{ account: Address; chainId: number } | undefined> {
      const current = getProviderSync()
      const [account] = (await current.request({ method: 'eth_accounts' })) as Address[]
      if (!account) return undefined
      return { account, chainId: Number(await current.request({ method: 'eth_chainId' })) }
    }

    return {
      id: 'sso',
      name: 'SSO',
      rdns: 'dev.sso',
      type: sso.type,
      async setup() {
        // The provider is created on first use, so a misconfiguration surfaces from connect() as a clear error.
      },
      connect(
        connectParameters: {
          chainId?: number | undefined
          withCapabilities?: boolean | undefined
          /** A session to ask for with this connect, or `null` for none (default: `connectSession`). */
          session?: SessionRequest | null | undefined
        } = {},
        // biome-ignore lint/suspicious/noExplicitAny: wagmi's generic `withCapabilities` return type
      ): Promise<any> {
        const current = getProviderSync()
        const asked = parameters.connectSession
        const session =
          connectParameters.session !== undefined
            ? connectParameters.session
            : typeof asked === 'function'
              ? asked()
              : asked
        // No await before this request: it opens the popup (one popup for the connect and the session).
        const requested = current.request({
          method: 'eth_requestAccounts',
          ...(session ? { params: [{ session }] } : {}),
        }) as Promise<`0x${string}`[]>
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
      async getSession() {
        const where = parameters.session && (await connected())
        if (!where) return undefined
        const record = parameters.session?.current(where.account, where.chainId)
        if (!record) return undefined
        const { sessionId, account, chainId, spec } = record
        return { sessionId, account, chainId, expiresAt: spec.expiresAt }
      },
      async getSessionState() {
        const where = parameters.session && (await connected())
        if (!where || !parameters.session?.current(where.account, where.chainId)) return undefined
        return parameters.session.getSessionState(where)
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
