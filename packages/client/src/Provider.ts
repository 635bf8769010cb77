/**
 * The EIP-1193 provider a dapp embeds (packages/client/README.md; docs/architecture.md, section 6). Signing methods go to the auth server popup; read-only
 * methods go to the chain's RPC; EIP-5792 call status is read from the bundler.
 */
import * as v from 'valibot'
import {
  BaseError,
  ConflictingParamsError,
  DisconnectedError,
  DuplicateIdError,
  InvalidParamsError,
  InvalidRequestError,
  type RpcError,
  UnauthorizedError,
  UnknownBundleIdError,
  UnknownChainError,
  UnsupportedChainIdError,
  UnsupportedMethodError,
  UnsupportedNonOptionalCapabilityError,
} from './Errors.js'
import { createEmitter } from './internal/emitter.js'
import { fromQuantity, sameAddress, toQuantity } from './internal/hex.js'
import { rpcRequest } from './internal/rpc.js'
import { createPopup, type Popup, type PopupHostWindow } from './Popup.js'
import {
  Address,
  CallsStatus,
  type Capabilities,
  findConflict,
  invalidParams,
  isPopupMethod,
  type PopupMethod,
  type PopupParams,
  type PopupRequest,
  type ProviderMethod,
  parseParams,
  providerMethods,
} from './RpcSchema.js'
import type { SessionEvents, SessionHandler } from './SessionHandler.js'

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

/** Read-only methods forwarded to the chain's RPC as they are. */
export const forwardedMethods = [
  'eth_blockNumber',
  'eth_call',
  'eth_estimateGas',
  'eth_feeHistory',
  'eth_gasPrice',
  'eth_blobBaseFee',
  'eth_maxPriorityFeePerGas',
  'eth_getBalance',
  'eth_getBlockByHash',
  'eth_getBlockByNumber',
  'eth_getBlockReceipts',
  'eth_getBlockTransactionCountByHash',
  'eth_getBlockTransactionCountByNumber',
  'eth_getCode',
  'eth_getLogs',
  'eth_getProof',
  'eth_getStorageAt',
  'eth_getTransactionByBlockHashAndIndex',
  'eth_getTransactionByBlockNumberAndIndex',
  'eth_getTransactionByHash',
  'eth_getTransactionCount',
  'eth_getTransactionReceipt',
  'eth_createAccessList',
  'eth_simulateV1',
  'eth_syncing',
  'net_listening',
  'net_version',
  'web3_clientVersion',
] as const

const ChainConfigSchema = v.object({
  id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  name: v.optional(v.string()),
  rpcUrl: v.pipe(v.string(), v.url()),
  bundlerUrl: v.pipe(v.string(), v.url()),
})
const OptionsSchema = v.object({
  authServerUrl: v.pipe(v.string(), v.url()),
  chains: v.pipe(v.array(ChainConfigSchema), v.minLength(1)),
  paymaster: v.optional(v.object({ url: v.pipe(v.string(), v.url()) })),
  timeout: v.optional(v.pipe(v.number(), v.minValue(1))),
})

const Connection = v.object({ address: v.optional(Address), chainId: v.number() })
type Connection = v.InferOutput<typeof Connection>
// batch id -> chain and userOp hash (the id is the userOp hash unless the dapp chose its own, EIP-5792 `id`)
const CallsIndex = v.record(v.string(), v.object({ chainId: v.number(), hash: v.string() }))
type CallsEntry = { chainId: number; hash: string }

const supportedCapabilities = new Set(['paymasterService', 'atomic'])

/** How the provider's chain is named in {@link ConflictingParamsError} messages. */
const currentChainField = "the provider's chain (eth_chainId)"

/**
 * Creates the SSO EIP-1193 provider.
 *
 * @example
 * ```ts
 * import { createProvider } from '@sso/client'
 * import { createWalletClient, custom } from 'viem'
 *
 * const provider = createProvider({
 *   authServerUrl: 'http://localhost:3002',
 *   chains: [{ id: 31337, rpcUrl: 'http://127.0.0.1:8545', bundlerUrl: 'http://127.0.0.1:4337' }],
 * })
 * button.onclick = async () => {
 *   const [address] = await provider.request({ method: 'eth_requestAccounts' }) as `0x${string}`[]
 *   const client = createWalletClient({ account: address, transport: custom(provider) })
 * }
 * ```
 */
export function createProvider(options: ProviderOptions): Provider {
  const checked = v.safeParse(OptionsSchema, options)
  if (!checked.success)
    throw new BaseError('Invalid SSO provider options.', { details: v.summarize(checked.issues) })
  const chains = options.chains
  const defaultChain = chains[0]
  const storage = options.storage ?? defaultStorage()
  const connectionKey = `${options.storageKey ?? 'sso'}.connection`
  const callsKey = `${options.storageKey ?? 'sso'}.calls`
  const emitter = createEmitter<ProviderEvents>()
  const popup: Popup = createPopup({
    authServerUrl: options.authServerUrl,
    timeout: options.timeout,
    window: options.window,
  })

  let connection: Connection = restore()
  const session = options.session
  session?.attach({ emit: emitter.emit, chain: (id) => chains.find((c) => c.id === id) })

  function restore(): Connection {
    try {
      const raw = storage.getItem(connectionKey)
      const parsed = raw ? v.safeParse(Connection, JSON.parse(raw)) : undefined
      if (parsed?.success && chains.some((c) => c.id === parsed.output.chainId)) return parsed.output
    } catch {
      // Corrupt storage: start disconnected.
    }
    return { chainId: defaultChain.id }
  }

  function persist() {
    try {
      storage.setItem(connectionKey, JSON.stringify(connection))
    } catch {
      // Storage full or denied: the connection just won't survive a reload.
    }
  }

  function chain(id = connection.chainId): ChainConfig {
    return chains.find((c) => c.id === id) ?? defaultChain
  }

  /** The connected account; 4100 before connect, or when `address` (found at `field`) is another account. */
  function requireAccount(address?: string, field = 'address'): `0x${string}` {
    if (!connection.address)
      throw new UnauthorizedError('Not connected: call eth_requestAccounts first (from a click handler).')
    if (address !== undefined && !sameAddress(address, connection.address))
      throw new UnauthorizedError(
        `The request is for another account: ${field} is ${address} but the connected SSO account (eth_accounts) is ${connection.address}.`,
      )
    return connection.address
  }

  /**
   * Refuses a request that states its chain twice (see `duplicatedFields` in RpcSchema.ts), before the popup opens:
   * `chainId` is the chain the provider puts in the envelope.
   */
  function refuseConflicts(method: PopupMethod, params: unknown, chainId: number, chainField: string) {
    const conflict = findConflict({ id: 'check', method, params, chainId } as PopupRequest, { chainField })
    if (conflict) throw conflict
  }

  /**
   * The chain and account a session request may state (ERC-7715 style `chainId` / `address`) must be the
   * provider's: the session is created for the connected account on the provider's chain.
   */
  function refuseStatedConflicts(stated: unknown, where: string) {
    if (typeof stated !== 'object' || stated === null) return
    const { chainId, address } = stated as { chainId?: unknown; address?: unknown }
    if (chainId !== undefined) {
      const id = statedChainId(chainId)
      if (id !== connection.chainId) {
        const given = typeof chainId === 'string' ? chainId : String(chainId)
        throw new ConflictingParamsError(
          'chains',
          { field: currentChainField, value: String(connection.chainId) },
          {
            field: `${where}.chainId`,
            value: id !== undefined && given.startsWith('0x') ? `${given} (${id})` : given,
          },
        )
      }
    }
    if (address !== undefined) {
      if (!v.is(Address, address)) throw new InvalidParamsError(`${where}.address is not an address.`)
      requireAccount(address, `${where}.address`)
    }
  }

  function withPaymaster(capabilities: Capabilities | undefined): Capabilities | undefined {
    if (!options.paymaster || capabilities?.paymasterService) return capabilities
    return { ...capabilities, paymasterService: { url: options.paymaster.url } }
  }

  function checkCapabilities(capabilities: Capabilities | undefined) {
    for (const [name, value] of Object.entries(capabilities ?? {}))
      if (!supportedCapabilities.has(name) && value.optional !== true)
        throw new UnsupportedNonOptionalCapabilityError(`The capability "${name}" is not supported.`)
  }

  function readCalls(): Record<string, CallsEntry> {
    try {
      const parsed = v.safeParse(CallsIndex, JSON.parse(storage.getItem(callsKey) ?? '{}'))
      return parsed.success ? parsed.output : {}
    } catch {
      return {}
    }
  }

  function rememberCalls(id: string, entry: CallsEntry) {
    const entries = Object.entries(readCalls()).slice(-99)
    entries.push([id, entry])
    try {
      storage.setItem(callsKey, JSON.stringify(Object.fromEntries(entries)))
    } catch {
      // Best effort: an unknown id is still looked up on the current chain.
    }
  }

  function setConnected(address: `0x${string}`, chainId: number) {
    const changed = !sameAddress(connection.address, address)
    const chainChanged = connection.chainId !== chainId
    connection = { address, chainId }
    persist()
    emitter.emit('connect', { chainId: toQuantity(chainId) })
    if (chainChanged) emitter.emit('chainChanged', toQuantity(chainId))
    if (changed) emitter.emit('accountsChanged', [address])
  }

  // Synchronous up to the popup: `window.open` must run inside the user's gesture.
  function popupRequest<method extends PopupMethod>(method: method, params: unknown): Promise<unknown> {
    const parsed = parseParams(method, params)
    if (!parsed.success) throw parsed.error
    const valid = parsed.params as PopupParams<PopupMethod>

    switch (method) {
      case 'eth_requestAccounts': {
        if (connection.address) return Promise.resolve([connection.address])
        return popup.request('eth_requestAccounts', [], connection.chainId).then((result) => {
          const [address] = result.accounts as [`0x${string}`]
          const chainId = chains.some((c) => c.id === result.chainId) ? result.chainId : connection.chainId
          setConnected(address, chainId)
          return [address]
        })
      }
      case 'eth_sendTransaction': {
        const [tx, capabilities] = valid as PopupParams<'eth_sendTransaction'>
        requireAccount(tx.from, 'params[0].from')
        refuseConflicts(method, valid, connection.chainId, currentChainField)
        checkCapabilities(capabilities)
        const paymaster = withPaymaster(capabilities)
        const out = paymaster ? [tx, paymaster] : [tx]
        const viaPopup = () =>
          popup.request('eth_sendTransaction', out as PopupParams<'eth_sendTransaction'>, connection.chainId)
        const account = requireAccount()
        if (session?.has(account, connection.chainId)) {
          const data = tx.data ?? tx.input
          const call = { to: tx.to, ...(data ? { data } : {}), value: tx.value ? BigInt(tx.value) : 0n }
          const sent = session.send(
            { account, chainId: connection.chainId, calls: [call], wait: true },
            viaPopup,
          )
          if ('popup' in sent) return sent.popup
          return sent.session.then((r) => ('fallback' in r ? r.fallback : r.transactionHash))
        }
        return viaPopup()
      }
      case 'wallet_sendCalls': {
        const [request] = valid as PopupParams<'wallet_sendCalls'>
        requireAccount(request.from, 'params[0].from')
        const chainId = chainIdParam(request.chainId, 'params[0].chainId')
        if (!chains.some((c) => c.id === chainId))
          throw new UnsupportedChainIdError(`Chain ${chainId} is not configured in the SSO provider.`)
        checkCapabilities(request.capabilities)
        for (const call of request.calls) checkCapabilities(call.capabilities)
        if (request.id !== undefined && Object.hasOwn(readCalls(), request.id))
          throw new DuplicateIdError(`A batch with id ${request.id} was already sent.`)
        const capabilities = withPaymaster(request.capabilities)
        const out = capabilities ? { ...request, capabilities } : request
        const remember = (result: { id: string }) => {
          const id = request.id ?? result.id
          rememberCalls(id, { chainId, hash: result.id })
          return { ...result, id }
        }
        const viaPopup = () => popup.request('wallet_sendCalls', [out], chainId).then(remember)
        const account = requireAccount()
        if (session?.has(account, chainId)) {
          const calls = request.calls.map((c) => ({
            to: c.to,
            ...(c.data ? { data: c.data } : {}),
            value: c.value ? BigInt(c.value) : 0n,
          }))
          const sent = session.send({ account, chainId, calls, wait: false }, viaPopup)
          if ('popup' in sent) return sent.popup
          return sent.session.then((r) => ('fallback' in r ? r.fallback : remember({ id: r.userOpHash })))
        }
        return viaPopup()
      }
      case 'wallet_showCallsStatus': {
        requireAccount()
        const [id] = valid as PopupParams<'wallet_showCallsStatus'>
        const known = readCalls()[id]
        return popup.request(
          'wallet_showCallsStatus',
          [known?.hash ?? id],
          known?.chainId ?? connection.chainId,
        )
      }
      case 'personal_sign': {
        const [message, address] = valid as PopupParams<'personal_sign'>
        requireAccount(address, 'params[1]')
        return popup.request('personal_sign', [message, address], connection.chainId)
      }
      case 'eth_signTypedData_v4': {
        const [address] = valid as PopupParams<'eth_signTypedData_v4'>
        requireAccount(address, 'params[0]')
        refuseConflicts(method, valid, connection.chainId, currentChainField)
        // Forward what the dapp sent (the popup validates it again).
        const raw = (params as unknown[])[1] as PopupParams<'eth_signTypedData_v4'>[1]
        return popup.request('eth_signTypedData_v4', [address, raw], connection.chainId)
      }
      default:
        throw new UnsupportedMethodError(`The SSO provider does not support "${method}".`)
    }
  }

  // Sessions: the dapp's params are checked and completed (session public key) by the session manager.
  function sessionRequest(method: string, params: unknown): Promise<unknown> {
    if (!session)
      throw new UnsupportedMethodError(
        `"${method}" needs sessions: createProvider({ session: createSessionManager() }) from @sso/client/session.`,
      )
    const list = params === undefined ? [] : params
    if (!Array.isArray(list)) throw new InvalidParamsError(`Params of "${method}" must be an array.`)
    const chainId = connection.chainId
    if (method === 'wallet_grantPermissions') {
      refuseStatedConflicts(list[0], 'params[0]')
      const grant = session.prepareGrant(list[0], { account: connection.address, chainId })
      return popup.request('wallet_grantPermissions', grant.params, chainId).then((result) => {
        if (!sameAddress(result.account, connection.address)) setConnected(result.account, chainId)
        return grant.finish(result)
      })
    }
    if (method === 'wallet_revokePermissions') {
      refuseStatedConflicts(list[0], 'params[0]')
      const revoke = session.prepareRevoke(list[0], { account: requireAccount(), chainId })
      return popup.request('wallet_revokePermissions', revoke.params, chainId).then(revoke.finish)
    }
    // eth_requestAccounts with [{ session }]: connect and create the session in the same popup.
    const [{ session: request }] = list as [{ session: unknown }]
    refuseStatedConflicts(request, 'params[0].session')
    const grant = session.prepareGrant(request, { account: connection.address, chainId })
    const connected = popupRequest('eth_requestAccounts', [])
    const granted = popup.request('wallet_grantPermissions', grant.params, chainId)
    return Promise.all([connected, granted]).then(async ([accounts, result]) => {
      await grant.finish(result)
      return accounts
    })
  }

  function providerRequest(method: ProviderMethod, params: unknown): Promise<unknown> {
    const schema = providerMethods[method].params as v.GenericSchema
    const parsed = v.safeParse(schema, params)
    if (!parsed.success) throw invalidParams(method, parsed.issues)
    const valid = parsed.output as unknown[] | undefined

    switch (method) {
      case 'eth_accounts':
        return Promise.resolve(connection.address ? [connection.address] : [])
      case 'eth_chainId':
        return Promise.resolve(toQuantity(connection.chainId))
      case 'wallet_switchEthereumChain': {
        const [{ chainId: hex }] = valid as [{ chainId: `0x${string}` }]
        const chainId = chainIdParam(hex, 'params[0].chainId')
        if (!chains.some((c) => c.id === chainId))
          throw new UnknownChainError(`Chain ${chainId} is not configured in the SSO provider.`)
        if (chainId !== connection.chainId) {
          connection = { ...connection, chainId }
          persist()
          emitter.emit('chainChanged', toQuantity(chainId))
        }
        return Promise.resolve(null)
      }
      case 'wallet_getCapabilities': {
        const [address, chainIds] = (valid ?? []) as [`0x${string}`?, `0x${string}`[]?]
        if (address !== undefined) requireAccount(address, 'params[0]')
        const wanted = chainIds?.map((id, i) => chainIdParam(id, `params[1][${i}]`))
        const result: Record<string, unknown> = {}
        for (const c of chains) {
          if (wanted && !wanted.includes(c.id)) continue
          result[toQuantity(c.id)] = {
            atomic: { status: 'supported' },
            paymasterService: { supported: true },
          }
        }
        return Promise.resolve(result)
      }
      case 'wallet_getCallsStatus': {
        const [id] = valid as [string]
        return getCallsStatus(id)
      }
      case 'wallet_disconnect': {
        const wasConnected = connection.address !== undefined
        connection = { chainId: connection.chainId }
        try {
          storage.removeItem(connectionKey)
        } catch {
          // ignore
        }
        popup.close()
        session?.forget(undefined)
        if (wasConnected) {
          emitter.emit('accountsChanged', [])
          emitter.emit('disconnect', new DisconnectedError('The dapp disconnected the SSO account.'))
        }
        return Promise.resolve(null)
      }
    }
  }

  async function getCallsStatus(id: string) {
    const known = readCalls()[id]
    const chainId = known?.chainId ?? connection.chainId
    const hash = known?.hash ?? id
    const { bundlerUrl } = chain(chainId)
    const receipt = (await rpcRequest(bundlerUrl, 'eth_getUserOperationReceipt', [
      hash,
    ])) as UserOperationReceipt | null
    const base = { version: '2.0.0', id, chainId: toQuantity(chainId), atomic: true }
    if (!receipt) {
      if (known === undefined) {
        const op = await rpcRequest(bundlerUrl, 'eth_getUserOperationByHash', [hash]).catch(() => null)
        if (!op) throw new UnknownBundleIdError(`No batch with id ${id} is known.`)
      }
      return { ...base, status: CallsStatus.pending }
    }
    return {
      ...base,
      status: receipt.success ? CallsStatus.confirmed : CallsStatus.reverted,
      receipts: [
        {
          logs: (receipt.logs ?? []).map((log) => ({
            address: log.address,
            data: log.data,
            topics: log.topics,
          })),
          status: receipt.success ? '0x1' : '0x0',
          blockHash: receipt.receipt.blockHash,
          blockNumber: receipt.receipt.blockNumber,
          gasUsed: receipt.actualGasUsed ?? receipt.receipt.gasUsed,
          transactionHash: receipt.receipt.transactionHash,
        },
      ],
    }
  }

  function handle(args: RequestArguments): Promise<unknown> {
    if (typeof args !== 'object' || args === null || typeof args.method !== 'string')
      throw new InvalidRequestError('request() expects { method: string, params?: unknown[] }.')
    const { method, params } = args
    if (params !== undefined && params !== null && typeof params !== 'object')
      throw new InvalidRequestError('params must be an array or an object.')
    if (
      method === 'wallet_grantPermissions' ||
      method === 'wallet_revokePermissions' ||
      (method === 'eth_requestAccounts' &&
        Array.isArray(params) &&
        typeof params[0] === 'object' &&
        params[0] !== null &&
        'session' in params[0])
    )
      return sessionRequest(method, params)
    if (isPopupMethod(method)) return popupRequest(method, params)
    if (Object.hasOwn(providerMethods, method)) return providerRequest(method as ProviderMethod, params)
    if ((forwardedMethods as readonly string[]).includes(method)) {
      if (params !== undefined && !Array.isArray(params))
        throw new InvalidParamsError(`Params of "${method}" must be an array.`)
      return rpcRequest(chain().rpcUrl, method, params ?? [])
    }
    throw new UnsupportedMethodError(`The SSO provider does not support "${method}".`)
  }

  return {
    request(args) {
      try {
        return handle(args)
      } catch (error) {
        return Promise.reject(error)
      }
    },
    on: emitter.on,
    removeListener: emitter.removeListener,
    isSso: true,
    chains,
  }
}

type UserOperationReceipt = {
  success: boolean
  actualGasUsed?: `0x${string}`
  logs?: { address: `0x${string}`; data: `0x${string}`; topics: `0x${string}`[] }[]
  receipt: {
    blockHash: `0x${string}`
    blockNumber: `0x${string}`
    gasUsed: `0x${string}`
    transactionHash: `0x${string}`
  }
}

// A chain id quantity of the params; one too large to be a chain id is -32602 naming where it is.
function chainIdParam(value: `0x${string}`, field: string): number {
  try {
    return fromQuantity(value)
  } catch {
    throw new InvalidParamsError(`${field} is ${value}, which is not a chain id.`)
  }
}

// A chain id stated by the dapp: a number, or a decimal / 0x-hex string; undefined when it is neither.
function statedChainId(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (typeof value !== 'string' || !/^(0x[0-9a-fA-F]{1,13}|[0-9]{1,15})$/.test(value)) return undefined
  return Number(value)
}

function defaultStorage(): ProviderStorage {
  try {
    if (typeof localStorage !== 'undefined') return localStorage
  } catch {
    // Access denied (sandboxed iframe): fall through.
  }
  const memory = new Map<string, string>()
  return {
    getItem: (key) => memory.get(key) ?? null,
    setItem: (key, value) => void memory.set(key, value),
    removeItem: (key) => void memory.delete(key),
  }
}
