/**
 * ERC-7579 modules (docs/modules.md): `wallet_installModule` and `wallet_uninstallModule` go through the popup (a
 * passkey approval); `wallet_getModules` and `wallet_isModuleInstalled` read the chain, no popup.
 */
import { InvalidParamsError } from '../Errors.js'
import { rpcRequest } from '../internal/rpc.js'
import type { ModuleChange, Submitted } from '../RpcSchema.js'
import { popupParams, providerParams } from './params.js'
import { waitForReceipt } from './receipt.js'
import type { Handler, ProviderContext } from './types.js'

export const installModule: Handler = (context, params) => change(context, 'wallet_installModule', params)

export const uninstallModule: Handler = (context, params) => change(context, 'wallet_uninstallModule', params)

function change(
  context: ProviderContext,
  method: 'wallet_installModule' | 'wallet_uninstallModule',
  params: unknown,
) {
  const [module] = popupParams(method, params)
  checkChange(module, 'params[0]')
  context.requireAccount(module.from, 'params[0].from')
  const { chainId } = context.connection
  const from = module.from ?? context.requireAccount()
  const finish = (sent: Submitted) =>
    waitForReceipt(context.chain(chainId).bundlerUrl, sent.userOpHash).then((r) => ({
      transactionHash: r.receipt.transactionHash,
    }))
  return context.popup.request(method, [{ ...module, from }], chainId, { finish })
}

/** What the schema can't say: SsoAccount has no hooks, and a fallback handler's data starts with its selector. */
export function checkChange(module: ModuleChange, where: string) {
  if (module.type === 'hook')
    throw new InvalidParamsError(
      `${where}.type is "hook": SSO accounts do not support ERC-7579 hooks (type 4), only validators, executors and fallback handlers.`,
    )
  if (module.type === 'fallback' && (module.data ?? '0x').length < 10)
    throw new InvalidParamsError(
      `${where}.data must start with the 4-byte selector the fallback handler handles.`,
    )
  if (module.data !== undefined && module.data.length % 2 !== 0)
    throw new InvalidParamsError(`${where}.data is not whole bytes (odd number of hex digits).`)
}

export const getModules: Handler = async (context, params) => {
  const parsed = providerParams('wallet_getModules', params)
  const account = parsed?.[0]?.account ?? context.requireAccount()
  const { readModules: read } = await import('../Modules.js')
  const { fromBlock } = context.chain()
  return read({
    client: await chainClient(context),
    account,
    fromBlock: fromBlock === undefined ? undefined : BigInt(fromBlock),
  })
}

export const isModuleInstalled: Handler = async (context, params) => {
  const [query] = providerParams('wallet_isModuleInstalled', params)
  const account = query.account ?? context.requireAccount()
  const { readModuleInstalled: read } = await import('../Modules.js')
  const { type, address, context: selector } = query
  return read({ client: await chainClient(context), account, type, address, context: selector })
}

/** A viem client of the provider's current chain over its RPC URL (loaded on first use: reads only). */
async function chainClient(context: ProviderContext) {
  const { createClient, custom } = await import('viem')
  const { rpcUrl, id } = context.chain()
  return createClient({
    chain: {
      id,
      name: `chain ${id}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    },
    transport: custom({ request: ({ method, params }) => rpcRequest(rpcUrl, method, params) }),
  })
}
