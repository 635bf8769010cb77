/**
 * The EIP-1193 provider a dapp embeds (packages/client/README.md; docs/architecture.md, section 6). A request is
 * routed through a table of per-method handlers (`provider/handlers.ts`): signing methods go to the auth server
 * popup, read-only methods to the chain's RPC, EIP-5792 call status to the bundler.
 */
import * as v from 'valibot'
import {
  BaseError,
  DisconnectedError,
  InvalidRequestError,
  RpcError,
  UnsupportedMethodError,
} from './Errors.js'
import { sameAddress } from './internal/hex.js'
import { createPopup } from './Popup.js'
import { createAccountChannel } from './provider/accountChannel.js'
import { createContext } from './provider/context.js'
import { handlerOf } from './provider/handlers.js'
import { withHandOff } from './provider/receipt.js'
import { defaultStorage } from './provider/storage.js'
import type { Provider, ProviderContext, ProviderOptions, RequestArguments } from './provider/types.js'

export { forwardedMethods } from './provider/forward.js'
export type {
  ChainConfig,
  Provider,
  ProviderEvents,
  ProviderOptions,
  ProviderStorage,
  RequestArguments,
} from './provider/types.js'

const ChainConfigSchema = v.object({
  id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  name: v.optional(v.string()),
  rpcUrl: v.pipe(v.string(), v.url()),
  bundlerUrl: v.pipe(v.string(), v.url()),
  contracts: v.optional(
    v.record(
      v.string(),
      v.optional(v.pipe(v.string(), v.regex(/^0x[0-9a-fA-F]{40}$/, 'Expected an address'))),
    ),
  ),
  fromBlock: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
})
const OptionsSchema = v.object({
  authServerUrl: v.pipe(v.string(), v.url()),
  chains: v.pipe(v.array(ChainConfigSchema), v.minLength(1)),
  paymaster: v.optional(v.object({ url: v.pipe(v.string(), v.url()) })),
  timeout: v.optional(v.pipe(v.number(), v.minValue(1))),
})

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
  // A request the popup signed and then went away from is finished here: its signed userOp is handed to the
  // bundler and its receipt read (docs/architecture.md, section 4).
  const popup = withHandOff(
    createPopup({
      authServerUrl: options.authServerUrl,
      timeout: options.timeout,
      window: options.window,
    }),
    (chainId) => options.chains.find((c) => c.id === chainId)?.bundlerUrl,
  )
  const context = createContext({ options, storage: options.storage ?? defaultStorage(), popup })

  // A log-out or account switch in the auth server reaches the dapp: pushed by the account channel while
  // connected, or answered by the popup (4100 with a reason) on the next request (docs/interfaces.md).
  const host = options.window ?? (globalThis.window as unknown as typeof options.window)
  const channel = createAccountChannel({
    authServerUrl: options.authServerUrl,
    host:
      options.accountChannel === false
        ? undefined
        : (host as Parameters<typeof createAccountChannel>[0]['host']),
    onStatus: ({ status, address }) => {
      if (
        (status === 'logged-out' || status === 'switched') &&
        sameAddress(address, context.connection.address)
      )
        accountGone(context, status)
    },
  })
  context.emitter.on('accountsChanged', (accounts) =>
    accounts.length > 0 ? channel.start() : channel.stop(),
  )
  if (context.connection.address) channel.start()

  // Synchronous up to the handler: a handler that opens the popup does so inside the user's gesture.
  function route(args: RequestArguments): Promise<unknown> {
    if (typeof args !== 'object' || args === null || typeof args.method !== 'string')
      throw new InvalidRequestError('request() expects { method: string, params?: unknown[] }.')
    const { method, params } = args
    if (params !== undefined && params !== null && typeof params !== 'object')
      throw new InvalidRequestError('params must be an array or an object.')
    const handler = handlerOf(method)
    if (!handler) throw new UnsupportedMethodError(`The SSO provider does not support "${method}".`)
    return handler(context, params).catch((error: unknown) => {
      const reason = error instanceof RpcError && error.code === 4100 ? reasonOf(error.data) : undefined
      if (reason === 'logged-out' || reason === 'another-account')
        accountGone(context, reason === 'logged-out' ? 'logged-out' : 'switched')
      throw error
    })
  }

  return {
    request(args) {
      try {
        return route(args)
      } catch (error) {
        return Promise.reject(error)
      }
    },
    on: context.emitter.on,
    removeListener: context.emitter.removeListener,
    isSso: true,
    chains: options.chains,
  }
}

/** The account the dapp was given is no longer the one logged in to the auth server: disconnect, saying why. */
function accountGone(context: ProviderContext, why: 'logged-out' | 'switched') {
  if (!context.connection.address) return
  const what =
    why === 'logged-out' ? 'logged out in the SSO auth server' : 'was switched in the SSO auth server'
  context.session?.forget(undefined)
  context.popup.close()
  context.disconnect(
    new DisconnectedError(`The SSO account ${what}.`, { data: { reason: why } }),
    `the SSO account ${what};`,
  )
}

function reasonOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as { reason?: unknown }).reason : undefined
}
