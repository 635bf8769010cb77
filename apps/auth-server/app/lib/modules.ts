/**
 * ERC-7579 modules in the auth server (docs/modules.md): what a module is called when it is one of ours, the checks
 * an install or uninstall must pass before the passkey signs, the ERC-7484 registry's word when a registry is
 * configured, and the account call that makes the change. The popup's approval screen and the dashboard's Modules
 * panel both use it.
 */

import {
  checkUninstall,
  installModuleCall,
  type ModuleType,
  moduleTypeIds,
  readModuleInstalled,
  uninstallModuleCall,
} from '@sso/client/modules'
import { Errors } from '@sso/client/popup'
import { deployments } from '@sso/contracts-abi'
import { type Address, getAddress, type Hex, isAddressEqual, parseAbi } from 'viem'
import { getPublicClient } from './chains'
import type { SsoChainConfig } from './config'

/** A module we ship: its name for people and what it does. */
export type KnownModule = { name: string; contract: string; what: string }

/** Our modules by contract key (as in `/sso-config.json` and the `@sso/contracts-abi` manifest). */
const ourModules: Record<string, KnownModule> = {
  webAuthnValidator: {
    name: 'Passkeys',
    contract: 'WebAuthnValidator',
    what: 'Your passkeys sign for the account.',
  },
  sessionKeyValidator: {
    name: 'Sessions',
    contract: 'SessionKeyValidator',
    what: 'Apps you allowed send transactions within limits, without a prompt.',
  },
  guardianExecutor: {
    name: 'Guardian recovery',
    contract: 'GuardianExecutor',
    what: 'Your guardians can add a passkey after a delay you can cancel.',
  },
  allowanceExecutor: {
    name: 'Allowances',
    contract: 'AllowanceExecutor',
    what: 'Apps you granted an allowance pull ETH or tokens within it.',
  },
}

/** Human names of the module types. */
export const moduleTypeNames: Record<ModuleType, string> = {
  validator: 'Validator',
  executor: 'Executor',
  fallback: 'Fallback handler',
  hook: 'Hook',
}

/** What a module of each type may do, in words. */
export const moduleTypePowers: Record<ModuleType, string> = {
  validator: 'decides which signatures may act for your account',
  executor: 'makes your account send transactions on its own',
  fallback: 'answers calls to your account that it has no function for',
  hook: 'runs before and after every transaction',
}

/**
 * The module at `address` when it is one of ours on `chain`: the chain's configured contracts and the
 * `@sso/contracts-abi` manifest (our CREATE2 addresses, the same on every chain).
 */
export function knownModule(chain: SsoChainConfig, address: string): KnownModule | undefined {
  const manifests = deployments as Record<number, Readonly<Record<string, Address>> | undefined>
  const manifest: Readonly<Record<string, Address>> = manifests[chain.id] ?? deployments[31337]
  for (const contracts of [chain.contracts as Readonly<Record<string, Address>>, manifest]) {
    for (const [key, known] of Object.entries(ourModules)) {
      const at = contracts[key]
      if (at && isAddressEqual(at, address as Address)) return known
    }
  }
  return undefined
}

/** The account call of a module change. */
export function moduleChangeCall(
  action: 'install' | 'uninstall',
  account: Address,
  change: { type: ModuleType; address: Address; data?: Hex | undefined },
) {
  const parameters = { account, type: change.type, address: getAddress(change.address), data: change.data }
  return action === 'install' ? installModuleCall(parameters) : uninstallModuleCall(parameters)
}

/**
 * Why a module change can't be made, as the typed error the dapp gets (-32602, nothing sent), or undefined. Read
 * from the chain: never a hook; an install of a module already installed; an uninstall of a module that is not
 * installed, of the last validator, or of the last validator that can sign for the account.
 */
export async function moduleChangeRefusal(
  chain: SsoChainConfig,
  account: Address,
  action: 'install' | 'uninstall',
  change: { type: ModuleType; address: Address; data?: Hex | undefined },
): Promise<Errors.RpcError | undefined> {
  if (change.type === 'hook')
    return new Errors.InvalidParamsError(
      'SSO accounts do not support ERC-7579 hooks (type 4), only validators, executors and fallback handlers.',
    )
  const client = getPublicClient(chain)
  const address = getAddress(change.address)
  if (action === 'install') {
    const context = change.type === 'fallback' ? ((change.data ?? '0x').slice(0, 10) as Hex) : '0x'
    if (await readModuleInstalled({ client, account, type: change.type, address, context }))
      return new Errors.InvalidParamsError(
        `${address} is already installed as a ${change.type} on this account.`,
        {
          data: { reason: 'already-installed' },
        },
      )
    return undefined
  }
  const refusal = await checkUninstall({ client, account, type: change.type, address, data: change.data })
  return refusal
    ? new Errors.InvalidParamsError(refusal.message, { data: { reason: refusal.reason } })
    : undefined
}

const registryAbi = parseAbi(['function check(address module, uint256 moduleType) view'])

/** What the ERC-7484 registry says about a module: attested, or not (with the registry's reason). */
export type Attestation =
  | { registry: Address; attested: true }
  | { registry: Address; attested: false; reason: string }

/**
 * The ERC-7484 registry's attestation of a module, when the chain configures a registry
 * (`contracts.moduleRegistry` in `/sso-config.json`): `check(module, type)` called as the account, so the
 * registry applies the attesters the account trusts. Undefined when no registry is configured.
 */
export async function registryAttestation(
  chain: SsoChainConfig,
  account: Address,
  change: { type: ModuleType; address: Address },
): Promise<Attestation | undefined> {
  const registry = (chain.contracts as Record<string, Address | undefined>).moduleRegistry
  if (!registry) return undefined
  try {
    await getPublicClient(chain).readContract({
      account,
      address: registry,
      abi: registryAbi,
      functionName: 'check',
      args: [getAddress(change.address), BigInt(moduleTypeIds[change.type])],
    })
    return { registry, attested: true }
  } catch (error) {
    return { registry, attested: false, reason: (error as Error).message.split('\n')[0] ?? 'reverted' }
  }
}
