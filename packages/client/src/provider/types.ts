/**
 * The shapes the provider and its per-method handlers share (docs/architecture.md, section 6).
 */
import type { RpcError } from '../Errors.js'
import type { createEmitter } from '../internal/emitter.js'
import type { Popup, PopupHostWindow } from '../Popup.js'
import type { ChainContracts, SessionEvents, SessionHandler } from '../SessionHandler.js'
import type { CallsIndex, Connection, PermissionsIndex } from './storage.js'

/** A chain the provider can use. The first chain of the list is the default. */
export type ChainConfig = {
  /** Chain id, e.g. 31337. */
  id: number
  /** Display name. */
  name?: string | undefined
  /** JSON-RPC URL of a node (read-only methods are forwarded here). */
  rpcUrl: string
  /** ERC-4337 bundler URL (EntryPoint v0.8), used for `wallet_getCallsStatus`. */
  bundlerUrl: string
  /**
   * Our contracts on this chain, as in the chain's entry of `sso-config.json` (docs/interfaces.md). Needed for
   * sessions on a chain the `@sso/contracts-abi` manifest does not know (a deployment of your own).
   */
  contracts?: ChainContracts | undefined
  /**
   * The block our contracts were deployed in on this chain (the deploy manifest's `fromBlock`): reads of the
   * account's logs (`wallet_getModules`) start there instead of at genesis, which long chains' nodes refuse.
   */
  fromBlock?: number | undefined
}

/** Where the connection (address, chain) is kept across reloads. `localStorage` satisfies it. */
export type ProviderStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>

export type ProviderOptions = {
  /** Base URL of the auth server, e.g. `http://localhost:3002` (popup at `/confirm`). */
  authServerUrl: string
  /** Configured chains; the first one is the default. */
  chains: readonly [ChainConfig, ...ChainConfig[]]
  /**
   * ERC-7677 paymaster service passed to the popup as the `paymasterService` capability of every
   * `eth_sendTransaction` / `wallet_sendCalls` that does not name one. Without it the popup uses its own default
   * (the devnet SponsorPaymaster).
   */
  paymaster?: { url: string } | undefined
  /** Milliseconds a popup request may take before it fails with a TimeoutError. Default 5 minutes. */
  timeout?: number | undefined
  /** Connection persistence. Defaults to `window.localStorage` (in-memory when unavailable). */
  storage?: ProviderStorage | undefined
  /** Prefix of the storage keys. Default `sso`. */
  storageKey?: string | undefined
  /** The dapp window (defaults to the global `window`). */
  window?: PopupHostWindow | undefined
  /**
   * Sessions (`createSessionManager()` from `@sso/client/session`): enables `wallet_grantPermissions`,
   * `wallet_revokePermissions`, `eth_requestAccounts` with `[{ session }]`, and sends in-policy transactions with
   * the session key (no popup).
   */
  session?: SessionHandler | undefined
  /**
   * Learn of a log-out or account switch in the auth server while connected, through a hidden iframe of its
   * `/channel.html` (docs/interfaces.md, "Account channel"). Default true in browsers.
   */
  accountChannel?: boolean | undefined
}

/** EIP-1193 provider events. */
export type ProviderEvents = {
  connect: (info: { chainId: `0x${string}` }) => void
  disconnect: (error: RpcError) => void
  accountsChanged: (accounts: readonly `0x${string}`[]) => void
  chainChanged: (chainId: `0x${string}`) => void
} & SessionEvents

/** EIP-1193 request arguments. */
export type RequestArguments = {
  readonly method: string
  readonly params?: readonly unknown[] | object | undefined
}

/** The SSO EIP-1193 provider. */
export type Provider = {
  /** Sends an EIP-1193 request. Signing methods open the popup synchronously: call them from a click handler. */
  request(args: RequestArguments): Promise<unknown>
  on<event extends keyof ProviderEvents>(event: event, listener: ProviderEvents[event]): void
  removeListener<event extends keyof ProviderEvents>(event: event, listener: ProviderEvents[event]): void
  /** Marker for detection (`provider.isSso`). */
  readonly isSso: true
  /** The configured chains. */
  readonly chains: readonly ChainConfig[]
}

/**
 * What a method handler may use: the provider's state and the shared checks. Handlers run synchronously up to the
 * popup (`window.open` must run inside the user's gesture) and return the answer's promise.
 */
export type ProviderContext = {
  readonly options: ProviderOptions
  readonly chains: readonly ChainConfig[]
  readonly popup: Popup
  readonly session: SessionHandler | undefined
  readonly emitter: ReturnType<typeof createEmitter<ProviderEvents>>
  /** Batches sent through this provider (batch id -> chain and userOp hash). */
  readonly calls: CallsIndex
  /** ERC-7715 permissions granted through this provider (`wallet_getGrantedExecutionPermissions`). */
  readonly permissions: PermissionsIndex
  /** The connection now (address once connected, and the current chain). */
  readonly connection: Connection
  /** The configured chain `id` (default: the current chain). */
  chain(id?: number): ChainConfig
  /** The connected account; 4100 before connect, or when `address` (found at `field`) is another account. */
  requireAccount(address?: string, field?: string): `0x${string}`
  /** Records a connection and emits `connect`, `chainChanged` and `accountsChanged` as they apply. */
  setConnected(address: `0x${string}`, chainId: number): void
  /** Switches the current chain (emits `chainChanged` when it changes). */
  setChain(chainId: number): void
  /**
   * Forgets the account (emits `accountsChanged([])` and `disconnect(error)` when one was connected). `why`, when
   * given, is what later requests that need the account say (4100).
   */
  disconnect(error: RpcError, why?: string): void
}

/** One RPC method: validates its params and answers. Synchronous up to the popup; throws typed errors. */
export type Handler = (context: ProviderContext, params: unknown) => Promise<unknown>
