/**
 * Checks the handlers share: params against their schema, chains and accounts a request states, capabilities.
 * Every check throws a typed error before the popup opens (docs/architecture.md, section 4).
 */
import * as v from 'valibot'
import {
  ConflictingParamsError,
  InvalidParamsError,
  UnsupportedNonOptionalCapabilityError,
} from '../Errors.js'
import { fromQuantity } from '../internal/hex.js'
import {
  Address,
  type Capabilities,
  findConflict,
  invalidParams,
  type PopupMethod,
  type PopupParams,
  type PopupRequest,
  type ProviderMethod,
  parseParams,
  providerMethods,
} from '../RpcSchema.js'
import type { ProviderContext } from './types.js'

/** How the provider's chain is named in {@link ConflictingParamsError} messages. */
export const currentChainField = "the provider's chain (eth_chainId)"

const supportedCapabilities = new Set(['paymasterService', 'atomic'])

/** The params of a popup method, validated (-32602 otherwise). */
export function popupParams<method extends PopupMethod>(
  method: method,
  params: unknown,
): PopupParams<method> {
  const parsed = parseParams(method, params)
  if (!parsed.success) throw parsed.error
  return parsed.params
}

/** The params of a method the provider answers itself, validated (-32602 otherwise). */
export function providerParams<method extends ProviderMethod>(
  method: method,
  params: unknown,
): v.InferOutput<(typeof providerMethods)[method]['params']> {
  const parsed = v.safeParse(providerMethods[method].params as v.GenericSchema, params)
  if (!parsed.success) throw invalidParams(method, parsed.issues)
  return parsed.output as never
}

/**
 * Refuses a request that states its chain twice (see `duplicatedFields` in RpcSchema.ts), before the popup opens:
 * `chainId` is the chain the provider puts in the envelope.
 */
export function refuseConflicts(method: PopupMethod, params: unknown, chainId: number) {
  const conflict = findConflict({ id: 'check', method, params, chainId } as PopupRequest, {
    chainField: currentChainField,
  })
  if (conflict) throw conflict
}

/**
 * The chain and account a session request may state (ERC-7715 style `chainId` / `address`) must be the
 * provider's: the session is created for the connected account on the provider's chain.
 */
export function refuseStatedConflicts(context: ProviderContext, stated: unknown, where: string) {
  if (typeof stated !== 'object' || stated === null) return
  const { chainId, address } = stated as { chainId?: unknown; address?: unknown }
  const current = context.connection.chainId
  if (chainId !== undefined) {
    const id = statedChainId(chainId)
    if (id !== current) {
      const given = typeof chainId === 'string' ? chainId : String(chainId)
      throw new ConflictingParamsError(
        'chains',
        { field: currentChainField, value: String(current) },
        {
          field: `${where}.chainId`,
          value: id !== undefined && given.startsWith('0x') ? `${given} (${id})` : given,
        },
      )
    }
  }
  if (address !== undefined) {
    if (!v.is(Address, address)) throw new InvalidParamsError(`${where}.address is not an address.`)
    context.requireAccount(address, `${where}.address`)
  }
}

/** Capabilities with the provider's paymaster added, unless the dapp named one. */
export function withPaymaster(
  context: ProviderContext,
  capabilities: Capabilities | undefined,
): Capabilities | undefined {
  const paymaster = context.options.paymaster
  if (!paymaster || capabilities?.paymasterService) return capabilities
  return { ...capabilities, paymasterService: { url: paymaster.url } }
}

/**
 * The dapp's ERC-7677 `paymasterService` capability (`{ url, context? }`), checked: an http(s) URL and an object
 * context, else -32602 before anything is sent.
 */
export function paymasterServiceOf(
  capabilities: Capabilities | undefined,
): { url: string; context?: Record<string, unknown> | undefined } | undefined {
  const service = capabilities?.paymasterService as { url?: unknown; context?: unknown } | undefined
  if (!service) return undefined
  const { url, context } = service
  if (typeof url !== 'string' || !/^https?:\/\//.test(url))
    throw new InvalidParamsError('capabilities.paymasterService.url must be an http(s) URL.')
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context)))
    throw new InvalidParamsError('capabilities.paymasterService.context must be an object.')
  return { url, ...(context ? { context: context as Record<string, unknown> } : {}) }
}

/** 5700 for a capability we do not support that the dapp did not mark optional. */
export function checkCapabilities(capabilities: Capabilities | undefined) {
  for (const [name, value] of Object.entries(capabilities ?? {}))
    if (!supportedCapabilities.has(name) && value.optional !== true)
      throw new UnsupportedNonOptionalCapabilityError(`The capability "${name}" is not supported.`)
}

/** A chain id quantity of the params; one too large to be a chain id is -32602 naming where it is. */
export function chainIdParam(value: `0x${string}`, field: string): number {
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
