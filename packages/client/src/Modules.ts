/**
 * `@sso/client/modules`: ERC-7579 modules of an SSO account (docs/modules.md). The actions `installModule`,
 * `uninstallModule`, `getModules` and `isModuleInstalled` take the SSO provider: changes open the popup, where the
 * user approves each one with a passkey; reads go to the chain. `readModules`, `readModuleInstalled` and
 * `checkUninstall` read a chain directly through a viem client (what the provider, the popup and the dashboard
 * use).
 */
import { ssoAccountAbi } from '@sso/contracts-abi'
import { type Address, type Client, encodeFunctionData, getAddress, type Hex, parseAbiItem } from 'viem'
import { getCode, getLogs, readContract } from 'viem/actions'
import { InvalidParamsError } from './Errors.js'

/** ERC-7579 module types by name. SsoAccount supports validators, executors and fallback handlers, not hooks. */
export const moduleTypeIds = { validator: 1, executor: 2, fallback: 3, hook: 4 } as const

/** An ERC-7579 module type by name. */
export type ModuleType = keyof typeof moduleTypeIds

/** A module installed on an account. */
export type InstalledModule = {
  /** Its ERC-7579 type (a module of two types is listed once per type). */
  type: ModuleType
  /** The module's address. */
  address: Address
}

/** The name of an ERC-7579 module type id, or undefined for an id outside 1..4. */
export function moduleTypeOf(typeId: number | bigint): ModuleType | undefined {
  const id = Number(typeId)
  return (Object.keys(moduleTypeIds) as ModuleType[]).find((name) => moduleTypeIds[name] === id)
}

/** What a module change names: the account, the module's type and address, and its init / de-init data. */
export type ModuleCallParameters = {
  account: Address
  type: ModuleType
  address: Address
  data?: Hex | undefined
}

/**
 * The account call that installs `address` as a module of `type` (the userOp's call is the account calling
 * itself). Fallback handlers: `data` starts with the 4-byte selector they handle.
 *
 * @example
 * ```ts
 * const call = installModuleCall({ account, type: 'executor', address: allowanceExecutor })
 * ```
 */
export function installModuleCall(parameters: ModuleCallParameters): {
  to: Address
  data: Hex
  value: bigint
} {
  return moduleCall('installModule', parameters)
}

/**
 * The account call that uninstalls `address` as a module of `type`.
 *
 * @example
 * ```ts
 * const call = uninstallModuleCall({ account, type: 'executor', address: allowanceExecutor })
 * ```
 */
export function uninstallModuleCall(parameters: ModuleCallParameters): {
  to: Address
  data: Hex
  value: bigint
} {
  return moduleCall('uninstallModule', parameters)
}

function moduleCall(
  functionName: 'installModule' | 'uninstallModule',
  { account, type, address, data = '0x' }: ModuleCallParameters,
): { to: Address; data: Hex; value: bigint } {
  return {
    to: account,
    value: 0n,
    data: encodeFunctionData({
      abi: ssoAccountAbi,
      functionName,
      args: [BigInt(moduleTypeIds[type]), address, data],
    }),
  }
}

const moduleInstalledEvent = parseAbiItem('event ModuleInstalled(uint256 moduleTypeId, address module)')

/**
 * Whether `address` is installed on `account` as a module of `type` (fallbacks: `context` is the selector; empty,
 * whether it handles any selector). An account that is not deployed yet has no modules.
 *
 * @example
 * ```ts
 * await readModuleInstalled({ client, account, type: 'executor', address: allowanceExecutor }) // true
 * ```
 */
export async function readModuleInstalled(parameters: {
  client: Client
  account: Address
  type: ModuleType
  address: Address
  context?: Hex | undefined
}): Promise<boolean> {
  const { client, account, type, address, context = '0x' } = parameters
  if (!(await isDeployed(client, account))) return false
  return readContract(client, {
    address: account,
    abi: ssoAccountAbi,
    functionName: 'isModuleInstalled',
    args: [BigInt(moduleTypeIds[type]), address, context],
  })
}

/**
 * Every module installed on `account` now: its preset modules (flagged in the account's head, installed by
 * the factory without an event of their own being needed) and every module a `ModuleInstalled` event named, each
 * checked with `isModuleInstalled` at the latest block. Sorted by type, then address. An account that is not
 * deployed yet has none (its first userOp installs the defaults). Events are read from `fromBlock` (default genesis:
 * pass the block our contracts were deployed in, the manifest's `fromBlock`, on a long chain).
 *
 * @example
 * ```ts
 * const modules = await readModules({ client, account })
 * // [{ type: 'validator', address: '0x5D8e…' }, { type: 'validator', address: '0xf52C…' }, …]
 * ```
 */
export async function readModules(parameters: {
  client: Client
  account: Address
  fromBlock?: bigint | undefined
}): Promise<InstalledModule[]> {
  const { client, account, fromBlock = 0n } = parameters
  if (!(await isDeployed(client, account))) return []
  const [[presetTypes, presetAddresses], logs] = await Promise.all([
    readContract(client, { address: account, abi: ssoAccountAbi, functionName: 'presetModules' }),
    getLogs(client, { address: account, event: moduleInstalledEvent, fromBlock, toBlock: 'latest' }),
  ])
  const candidates = new Map<string, InstalledModule>()
  const add = (typeId: bigint | undefined, module: Address | undefined) => {
    const type = typeId === undefined ? undefined : moduleTypeOf(typeId)
    if (!type || !module) return
    const address = getAddress(module)
    candidates.set(`${type}:${address}`, { type, address })
  }
  for (const [i, typeId] of presetTypes.entries()) add(typeId, presetAddresses[i])
  for (const log of logs) add(log.args.moduleTypeId, log.args.module)
  const list = [...candidates.values()]
  const installed = await Promise.all(
    list.map((module) =>
      readContract(client, {
        address: account,
        abi: ssoAccountAbi,
        functionName: 'isModuleInstalled',
        args: [BigInt(moduleTypeIds[module.type]), module.address, '0x'],
      }),
    ),
  )
  return list
    .filter((_, i) => installed[i])
    .sort(
      (a, b) =>
        moduleTypeIds[a.type] - moduleTypeIds[b.type] ||
        a.address.toLowerCase().localeCompare(b.address.toLowerCase()),
    )
}

/** Why an uninstall is refused before anything is signed, or undefined when the chain would accept it. */
export type UninstallRefusal = {
  reason: 'not-installed' | 'last-validator' | 'last-signing-validator'
  message: string
}

const scopedValidatorAbi = [
  {
    type: 'function',
    name: 'isScopedValidator',
    inputs: [],
    outputs: [{ type: 'bool' }],
    stateMutability: 'pure',
  },
] as const

/**
 * Whether a validator declares itself scoped (`IScopedValidator`, e.g. the SessionKeyValidator): its signatures
 * can never change the account, so it does not count as a validator that can sign for it.
 */
export async function isScopedValidator(client: Client, validator: Address): Promise<boolean> {
  try {
    return await readContract(client, {
      address: validator,
      abi: scopedValidatorAbi,
      functionName: 'isScopedValidator',
    })
  } catch {
    return false
  }
}

/**
 * Checks an uninstall against the account's rule before anything is signed: never the last validator, never the
 * last validator that can sign for the account (SsoAccount's `LastValidator` / `LastSigningValidator`).
 *
 * @example
 * ```ts
 * const refusal = await checkUninstall({ client, account, type: 'validator', address: webAuthnValidator })
 * if (refusal) throw new InvalidParamsError(refusal.message)
 * ```
 */
export async function checkUninstall(parameters: {
  client: Client
  account: Address
  type: ModuleType
  address: Address
  data?: Hex | undefined
}): Promise<UninstallRefusal | undefined> {
  const { client, account, type, address } = parameters
  const context = type === 'fallback' ? (parameters.data ?? '0x').slice(0, 10) : '0x'
  if (!(await readModuleInstalled({ client, account, type, address, context: context as Hex })))
    return { reason: 'not-installed', message: `${address} is not installed as a ${type} on ${account}.` }
  if (type !== 'validator') return undefined
  const at = { address: account, abi: ssoAccountAbi } as const
  const [count, signing, scoped] = await Promise.all([
    readContract(client, { ...at, functionName: 'validatorCount' }),
    readContract(client, { ...at, functionName: 'signingValidatorCount' }),
    isScopedValidator(client, address),
  ])
  if (count <= 1n)
    return {
      reason: 'last-validator',
      message: `${address} is the account's last validator: it can't be uninstalled.`,
    }
  if (!scoped && signing <= 1n)
    return {
      reason: 'last-signing-validator',
      message: `${address} is the last validator that can sign for the account (its passkeys): uninstalling it would lock the account, so it can't be uninstalled.`,
    }
  return undefined
}

/** An installed-module refusal as the typed error the provider and the popup answer with (-32602). */
export function uninstallRefusalError(refusal: UninstallRefusal): InvalidParamsError {
  return new InvalidParamsError(refusal.message, { data: { reason: refusal.reason } })
}

async function isDeployed(client: Client, account: Address): Promise<boolean> {
  const code = await getCode(client, { address: account })
  return code !== undefined && code !== '0x'
}

/** An EIP-1193 provider (the SSO provider of `createProvider`). */
export type ModuleProvider = {
  request(args: { method: string; params?: readonly unknown[] }): Promise<unknown>
}

/** What {@link installModule} and {@link uninstallModule} take: the module, and its `onInstall` / `onUninstall` data. */
export type ModuleChangeParameters = { type: ModuleType; address: Address; data?: Hex | undefined }

/**
 * Installs a module on the connected account: `wallet_installModule`, approved in the popup with a passkey (which
 * warns about modules it does not know). Opens the popup synchronously: call it from a click handler. Resolves once
 * the userOp is included.
 *
 * @example
 * ```ts
 * const data = encodeAbiParameters(parseAbiParameters('address, address, uint256, uint256'), [dapp, zeroAddress, parseEther('0.01'), 86_400n])
 * const { transactionHash } = await installModule(provider, { type: 'executor', address: allowanceExecutor, data })
 * ```
 */
export function installModule(
  provider: ModuleProvider,
  parameters: ModuleChangeParameters,
): Promise<{ transactionHash: Hex }> {
  return provider.request({ method: 'wallet_installModule', params: [changeParams(parameters)] }) as Promise<{
    transactionHash: Hex
  }>
}

/**
 * Uninstalls a module from the connected account: `wallet_uninstallModule`, approved in the popup. The popup
 * refuses (-32602, nothing sent) to uninstall the last validator that can sign for the account.
 *
 * @example
 * ```ts
 * await uninstallModule(provider, { type: 'executor', address: allowanceExecutor })
 * ```
 */
export function uninstallModule(
  provider: ModuleProvider,
  parameters: ModuleChangeParameters,
): Promise<{ transactionHash: Hex }> {
  return provider.request({
    method: 'wallet_uninstallModule',
    params: [changeParams(parameters)],
  }) as Promise<{
    transactionHash: Hex
  }>
}

/**
 * The modules installed on the connected account (or `account`), read from the chain: `wallet_getModules`.
 *
 * @example
 * ```ts
 * const modules = await getModules(provider) // [{ type: 'validator', address: '0x5D8e…' }, …]
 * ```
 */
export function getModules(
  provider: ModuleProvider,
  parameters: { account?: Address | undefined } = {},
): Promise<InstalledModule[]> {
  const params = parameters.account ? [{ account: parameters.account }] : []
  return provider.request({ method: 'wallet_getModules', params }) as Promise<InstalledModule[]>
}

/**
 * Whether a module is installed on the connected account (or `account`), read from the chain:
 * `wallet_isModuleInstalled`.
 *
 * @example
 * ```ts
 * await isModuleInstalled(provider, { type: 'executor', address: allowanceExecutor }) // true
 * ```
 */
export function isModuleInstalled(
  provider: ModuleProvider,
  parameters: {
    type: ModuleType
    address: Address
    context?: Hex | undefined
    account?: Address | undefined
  },
): Promise<boolean> {
  const query: Record<string, string> = { type: parameters.type, address: parameters.address }
  if (parameters.context !== undefined) query.context = parameters.context
  if (parameters.account !== undefined) query.account = parameters.account
  return provider.request({ method: 'wallet_isModuleInstalled', params: [query] }) as Promise<boolean>
}

function changeParams(parameters: ModuleChangeParameters) {
  const { type, address, data } = parameters
  return data === undefined ? { type, address } : { type, address, data }
}
