/**
 * `eth_chainId`, `wallet_switchEthereumChain` (EIP-3326) and `wallet_getCapabilities` (EIP-5792): answered by the
 * provider from its configuration.
 */
import { executionPermissionRuleTypes, executionPermissionTypes } from '../Erc7715.js'
import { UnknownChainError } from '../Errors.js'
import { toQuantity } from '../internal/hex.js'
import { chainIdParam, providerParams } from './params.js'
import type { Handler } from './types.js'

export const chainId: Handler = (context, params) => {
  providerParams('eth_chainId', params)
  return Promise.resolve(toQuantity(context.connection.chainId))
}

export const switchChain: Handler = (context, params) => {
  const [{ chainId: hex }] = providerParams('wallet_switchEthereumChain', params)
  const id = chainIdParam(hex, 'params[0].chainId')
  if (!context.chains.some((c) => c.id === id))
    throw new UnknownChainError(`Chain ${id} is not configured in the SSO provider.`)
  context.setChain(id)
  return Promise.resolve(null)
}

export const getCapabilities: Handler = (context, params) => {
  const [address, chainIds] = (providerParams('wallet_getCapabilities', params) ?? []) as [
    `0x${string}`?,
    `0x${string}`[]?,
  ]
  if (address !== undefined) context.requireAccount(address, 'params[0]')
  const wanted = chainIds?.map((id, i) => chainIdParam(id, `params[1][${i}]`))
  const result: Record<string, unknown> = {}
  for (const c of context.chains) {
    if (wanted && !wanted.includes(c.id)) continue
    result[toQuantity(c.id)] = {
      atomic: { status: 'supported' },
      // The popup sends through the dapp's ERC-7677 service (`paymasterService: { url }`).
      paymasterService: { supported: true },
      // ERC-7715, with a session manager (provider/executionPermissions.ts).
      ...(context.session
        ? {
            permissions: {
              supported: true,
              permissionTypes: [...executionPermissionTypes],
              ruleTypes: [...executionPermissionRuleTypes],
            },
          }
        : {}),
    }
  }
  return Promise.resolve(result)
}
