/**
 * The SSO account on a configured chain: the viem SmartAccount from `@sso/client/account` signing with the
 * passkey, user operations through the bundler (sponsored by the SponsorPaymaster unless the dapp names an
 * ERC-7677 paymaster service), and log-in from a credential id checked against chain state.
 */
import {
  findPasskeyAccounts,
  getPasskey,
  isDeployed,
  type SsoAccount,
  toSsoAccount,
} from '@sso/client/account'
import { type Address, type Hex, http, isAddressEqual } from 'viem'
import { createPaymasterClient, type PaymasterClient } from 'viem/account-abstraction'
import { getBundlerClient, getPublicClient } from './chains'
import type { SsoChainConfig } from './config'
import { type Passkey, relyingParty, signChallenge, verifyAssertion } from './passkey'

/** The logged-in account as kept in localStorage. */
export type StoredAccount = { address: Address; passkey: Passkey }

/** Thrown when an account operation fails for a reason the user should read. */
export class AccountError extends Error {
  override name = 'AccountError'
  constructor(
    message: string,
    readonly code: number = -32603,
    options: { cause?: unknown } = {},
  ) {
    super(message, options)
  }
}

function contractsOf(chain: SsoChainConfig) {
  const { accountFactory, webAuthnValidator, entryPoint } = chain.contracts
  if (!accountFactory || !webAuthnValidator)
    throw new AccountError(
      `Chain ${chain.id} has no accountFactory / webAuthnValidator in its configuration.`,
    )
  return { accountFactory, webAuthnValidator, entryPoint }
}

/**
 * The SmartAccount of `passkey` on `chain` (counterfactual address from the factory unless `address` is known).
 */
export async function getSsoAccount(
  chain: SsoChainConfig,
  passkey: Passkey,
  address?: Address,
): Promise<SsoAccount> {
  return toSsoAccount({
    client: getPublicClient(chain),
    credential: passkey,
    contracts: contractsOf(chain),
    address,
    sign: (challenge) => signChallenge(challenge, passkey.id),
  })
}

/** Who pays the gas of a user operation. */
export type GasPayer =
  | { kind: 'sponsor'; address: Address }
  | { kind: 'service'; url: string }
  | { kind: 'account' }

/** The gas payer for a request: the dapp's ERC-7677 service, else the configured SponsorPaymaster, else the account. */
export function gasPayer(chain: SsoChainConfig, capabilities?: Record<string, unknown>): GasPayer {
  const service = capabilities?.paymasterService as { url?: unknown } | undefined
  if (service && typeof service.url === 'string') return { kind: 'service', url: service.url }
  if (chain.contracts.sponsorPaymaster) return { kind: 'sponsor', address: chain.contracts.sponsorPaymaster }
  return { kind: 'account' }
}

function paymasterOf(payer: GasPayer): PaymasterClient | undefined {
  if (payer.kind === 'service') return createPaymasterClient({ transport: http(payer.url) })
  if (payer.kind === 'sponsor') {
    // The devnet SponsorPaymaster (no verifying signer) needs no paymasterData; the bundler estimates its gas.
    const data = { paymaster: payer.address, paymasterData: '0x' as Hex }
    return {
      getPaymasterStubData: async () => ({ ...data }),
      getPaymasterData: async () => ({ ...data }),
    } as unknown as PaymasterClient
  }
  return undefined
}

export type Call = { to: Address; data?: Hex | undefined; value?: bigint | undefined }

/** Signs (passkey) and sends one user operation with `calls`; resolves with its hash once the bundler took it. */
export async function sendCalls(parameters: {
  chain: SsoChainConfig
  account: SsoAccount
  calls: readonly Call[]
  payer: GasPayer
}): Promise<Hex> {
  const { chain, account, calls, payer } = parameters
  const bundler = getBundlerClient(chain)
  const paymaster = paymasterOf(payer)
  try {
    return await bundler.sendUserOperation({
      account,
      calls: calls.map((c) => ({ to: c.to, data: c.data ?? '0x', value: c.value ?? 0n })),
      ...(paymaster ? { paymaster } : {}),
    })
  } catch (error) {
    throw asAccountError(error, `Sending the user operation to ${chain.bundlerUrl} failed`)
  }
}

/** Waits for the user operation's receipt; throws when it reverted. */
export async function waitForUserOperation(chain: SsoChainConfig, hash: Hex) {
  const bundler = getBundlerClient(chain)
  let receipt: Awaited<ReturnType<typeof bundler.waitForUserOperationReceipt>>
  try {
    receipt = await bundler.waitForUserOperationReceipt({ hash, timeout: 60_000 })
  } catch (error) {
    throw asAccountError(error, 'Waiting for the user operation failed')
  }
  if (!receipt.success)
    throw new AccountError(
      `The user operation ${hash} reverted on chain (${receipt.reason ?? 'no reason'}).`,
      -32003,
    )
  return receipt
}

function asAccountError(error: unknown, what: string): Error {
  if (error instanceof AccountError) return error
  const code = (error as { code?: unknown })?.code
  if (code === 4001) return error as Error
  const message =
    (error as { shortMessage?: string; message?: string })?.shortMessage ??
    (error as Error)?.message ??
    String(error)
  return new AccountError(`${what}: ${message}`, -32603, { cause: error })
}

/**
 * Sign-up step 2: deploys the account with a first (sponsored when possible) user operation, so the account and
 * its passkey exist on chain and another device can find it. No-op when already deployed.
 */
export async function deployAccount(chain: SsoChainConfig, account: SsoAccount): Promise<void> {
  if (await isDeployed(getPublicClient(chain), account.address)) return
  const hash = await sendCalls({
    chain,
    account,
    calls: [{ to: account.address, data: '0x' }],
    payer: gasPayer(chain),
  })
  await waitForUserOperation(chain, hash)
}

/**
 * Log-in with a discoverable passkey: the user picks a passkey and signs a random challenge; the account is
 * looked up on chain from the credential id (WebAuthnValidator reverse lookup), its registered public key is
 * read from chain state, and the assertion must verify against that key. Nothing the authenticator returns is
 * trusted without that check.
 */
export async function logInWithPasskey(
  chain: SsoChainConfig,
  /** Accounts signed up on this device, by user handle (the only way to find one that is not deployed yet). */
  known: Record<string, StoredAccount> = {},
): Promise<StoredAccount> {
  const { webAuthnValidator } = contractsOf(chain)
  const { origin, rpId } = relyingParty()
  const challenge =
    `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('')}` as Hex
  const assertion = await signChallenge(challenge)
  const verify = (publicKey: Passkey['publicKey']) =>
    verifyAssertion({ assertion, publicKey, challenge, origin, rpId })
  const client = getPublicClient(chain)

  // 1. Deployed accounts: the validator's reverse lookup, the key as registered on chain.
  const accounts = await findPasskeyAccounts({
    client,
    webAuthnValidator,
    credentialId: assertion.credentialId,
  })
  for (const address of accounts) {
    const passkey = await getPasskey({
      client,
      webAuthnValidator,
      account: address,
      credentialId: assertion.credentialId,
    })
    if (!passkey || passkey.origin !== origin || passkey.rpId !== rpId) continue
    if (await verify(passkey.publicKey))
      return { address, passkey: { ...passkey, userHandle: assertion.userHandle } }
  }

  // 2. Not deployed yet (sign-up on this device whose deployment failed): the user handle names the local record,
  //    whose address must be the factory's counterfactual address for that very key.
  const local = assertion.userHandle ? known[assertion.userHandle] : undefined
  if (local && local.passkey.id === assertion.credentialId && (await verify(local.passkey.publicKey))) {
    const account = await getSsoAccount(chain, local.passkey)
    if (isAddressEqual(account.address, local.address)) return local
  }

  throw new AccountError(
    accounts.length === 0
      ? `No account on ${chain.name} holds this passkey. Sign up first, or use the passkey of an existing account.`
      : 'The passkey signature does not match the key registered on chain for this account.',
    4100,
  )
}

/** Whether `address` is this account (case-insensitive). */
export function isAccount(stored: StoredAccount | undefined, address: string | undefined): boolean {
  if (!stored || !address) return false
  try {
    return isAddressEqual(stored.address, address as Address)
  } catch {
    return false
  }
}
