/**
 * A popup request (docs/architecture.md, section 4): what it asks for (calls, capabilities, typed data, module
 * change) and whether it can be served at all ({@link refusalOf}). Pure: the requests store holds the queue and
 * runs the approved ones.
 */
import { Errors, RpcSchema } from '@sso/client/popup'
import { sessionAccountModules } from '@sso/client/session'
import { type Address, type Hex, isAddressEqual, type TypedDataDefinition } from 'viem'
import { isAccount, type StoredAccount } from '~/lib/account'
import type { SsoChainConfig } from '~/lib/config'
import { checkSpec } from '~/lib/sessions'

export type PopupRequest = RpcSchema.PopupRequest

/** The module change of a `wallet_installModule` / `wallet_uninstallModule` request. */
export function moduleActionOf(request: PopupRequest): 'install' | 'uninstall' | undefined {
  if (request.method === 'wallet_installModule') return 'install'
  if (request.method === 'wallet_uninstallModule') return 'uninstall'
  return undefined
}

/** Thrown before the passkey signs a request whose dapp went away (docs/architecture.md, section 4). */
export class RequesterGoneError extends Errors.UserRejectedRequestError {
  constructor() {
    super('The app that asked went away (closed or reloaded); nothing was signed.')
  }
}

/** Capabilities the popup honours; any other one must be marked optional. */
const knownCapabilities = new Set(['paymasterService', 'atomic'])

/** A thrown value as the `{ code, message, data? }` shown on screen and sent to the app. */
export function errorOf(error: unknown): { code: number; message: string; data?: unknown } {
  const serialized = Errors.serializeError(error)
  return {
    code: serialized.code,
    message: serialized.message,
    ...(serialized.data !== undefined ? { data: serialized.data } : {}),
  }
}

function hexToBigInt(value: Hex | undefined): bigint {
  return value === undefined ? 0n : BigInt(value)
}

/** The calls of a transaction request (`eth_sendTransaction` or `wallet_sendCalls`). */
export function callsOf(request: PopupRequest): { to: `0x${string}`; data?: Hex; value: bigint }[] {
  if (request.method === 'eth_sendTransaction') {
    const [tx] = request.params
    const data = tx.data ?? tx.input
    return [{ to: tx.to, ...(data ? { data } : {}), value: hexToBigInt(tx.value) }]
  }
  if (request.method === 'wallet_sendCalls')
    return request.params[0].calls.map((c) => ({
      to: c.to,
      ...(c.data ? { data: c.data } : {}),
      value: hexToBigInt(c.value),
    }))
  return []
}

/** The capabilities of a transaction request. */
export function capabilitiesOf(request: PopupRequest): Record<string, unknown> | undefined {
  if (request.method === 'eth_sendTransaction') return request.params[1]
  if (request.method === 'wallet_sendCalls') return request.params[0].capabilities
  return undefined
}

/** Typed data as viem takes it: `EIP712Domain` comes from `domain`, so a dapp-sent copy is dropped. */
export function typedDataOf(typedData: RpcSchema.TypedData): TypedDataDefinition {
  const { EIP712Domain: _, ...types } = typedData.types
  return {
    domain: typedData.domain as TypedDataDefinition['domain'],
    types,
    primaryType: typedData.primaryType,
    message: typedData.message,
  } as unknown as TypedDataDefinition
}

/** What {@link refusalOf} checks a request against. */
export type RefusalContext = {
  /** Why `/sso-config.json` is unusable, if it is. */
  configError: string | undefined
  /** The configured chain of the request. */
  chain: SsoChainConfig | undefined
  /** The logged-in account. */
  account: StoredAccount | undefined
}

/**
 * The typed error of a request that can't be served at all (nothing to approve), or undefined. Run when a request
 * arrives and again when it is approved. The popup never trusts the dapp's SDK: a page can post any message.
 */
export function refusalOf(request: PopupRequest, context: RefusalContext): Errors.RpcError | undefined {
  // A broken /sso-config.json must not make the popup act on fallback (devnet) addresses.
  if (context.configError)
    return new Errors.InternalError(`The SSO server is misconfigured: ${context.configError}`)
  // One chain per request: the chain shown is the chain the userOp is built for and the signature is valid on.
  const conflict = RpcSchema.findConflict(request)
  if (conflict) return conflict
  if (!context.chain)
    return request.method === 'wallet_sendCalls'
      ? new Errors.UnsupportedChainIdError(`Chain ${request.chainId} is not configured on this SSO server.`)
      : new Errors.UnknownChainError(`Chain ${request.chainId} is not configured on this SSO server.`)
  if (request.method === 'eth_requestAccounts') return undefined
  if (request.method === 'wallet_grantPermissions') {
    // The account the dapp names must be the one that signs (it may be absent: sign-up in this popup).
    const named = request.params[0].address
    const address = context.account?.address
    if (named !== undefined && !isAccount(context.account, named))
      return new Errors.UnauthorizedError(
        address
          ? `The request is for another account: params[0].address is ${named} but the logged-in SSO account is ${address}.`
          : `The request is for ${named} (params[0].address) but no SSO account is logged in: connect (eth_requestAccounts) first.`,
        { data: { reason: address ? 'another-account' : 'logged-out' } },
      )
    // Validated again here (never trust the dapp); the account may still be signing up in this popup.
    try {
      checkSpec(request.params[0].spec, {
        chain: context.chain,
        account: address,
        now: 0, // expiry is checked against the chain's time on the screen and again on approval
      })
    } catch (error) {
      return error as Errors.RpcError
    }
    return undefined
  }
  const account = context.account
  if (!account)
    return new Errors.UnauthorizedError(
      'No SSO account is logged in: connect (eth_requestAccounts) first.',
      // The dapp's client disconnects on this reason (docs/interfaces.md, "Account channel").
      { data: { reason: 'logged-out' } },
    )
  const [field, signer] =
    request.method === 'personal_sign'
      ? ['params[1]', request.params[1]]
      : request.method === 'eth_signTypedData_v4'
        ? ['params[0]', request.params[0]]
        : request.method === 'eth_sendTransaction'
          ? ['params[0].from', request.params[0].from]
          : request.method === 'wallet_sendCalls' ||
              request.method === 'wallet_installModule' ||
              request.method === 'wallet_uninstallModule'
            ? ['params[0].from', request.params[0].from]
            : ['', undefined]
  if (signer !== undefined && !isAccount(account, signer))
    return new Errors.UnauthorizedError(
      `The request is for another account: ${field} is ${signer} but the logged-in SSO account is ${account.address}.`,
      { data: { reason: 'another-account' } },
    )
  if (request.method === 'eth_sendTransaction' || request.method === 'wallet_sendCalls') {
    const configuring = configurationCall(request, context.chain, account.address)
    if (configuring) return configuring
  }
  const capabilities = [
    capabilitiesOf(request),
    ...(request.method === 'wallet_sendCalls' ? request.params[0].calls.map((c) => c.capabilities) : []),
  ]
  for (const set of capabilities)
    for (const [name, value] of Object.entries(set ?? {}))
      if (!knownCapabilities.has(name) && !(value as { optional?: boolean }).optional)
        return new Errors.UnsupportedNonOptionalCapabilityError(`The capability "${name}" is not supported.`)
  return undefined
}

/**
 * What each module every account is created with configures, for the message that names it. Which modules these
 * are is not decided here: `sessionAccountModules` is the one list the contracts, the client and the popup share.
 */
const configures: Record<string, string> = {
  webAuthnValidator: 'passkeys (WebAuthnValidator)',
  sessionKeyValidator: 'sessions (SessionKeyValidator)',
  guardianExecutor: 'guardians and recovery (GuardianExecutor)',
}

/**
 * An app's transaction never changes the account itself: no call to the account (modules, execute, upgrades) nor to
 * the contracts that hold its passkeys, sessions and guardians. Those change only on their own screens, where the
 * popup says what they do (wallet_grantPermissions, wallet_revokePermissions, wallet_installModule, the
 * dashboard): a plain transaction screen would show them as an address and a function name, and one approval
 * could hand the account to the app (docs/architecture.md, section 4).
 */
function configurationCall(
  request: PopupRequest,
  chain: SsoChainConfig,
  account: Address,
): Errors.RpcError | undefined {
  const contracts = chain.contracts as Readonly<Record<string, Address | undefined>>
  const targets = [
    { address: account, what: 'the account itself (its modules and settings)' },
    ...sessionAccountModules(contracts).map((address) => ({
      address,
      what: describeModule(contracts, address),
    })),
  ]
  for (const [index, call] of callsOf(request).entries()) {
    const what = targets.find(({ address }) => isAddressEqual(call.to, address))?.what
    if (!what) continue
    return new Errors.UnauthorizedError(
      `Apps can't change the account's own configuration: call ${index} goes to ${what} at ${call.to}. Sessions, modules, passkeys and guardians change on their own screens (wallet_grantPermissions, wallet_installModule, the dashboard).`,
      { data: { reason: 'account-configuration', call: index } },
    )
  }
  return undefined
}

function describeModule(contracts: Readonly<Record<string, Address | undefined>>, module: Address): string {
  const [name] =
    Object.entries(contracts).find(([, address]) => address && isAddressEqual(address, module)) ?? []
  return (name && configures[name]) ?? 'a module of the account'
}
