/**
 * User operations from the popup and the dashboard (docs/architecture.md, section 6): who pays (`gasPayer`), the
 * operation built and checked before the passkey is asked (`prepareCalls`: nonce, fees, gas, reverts decoded, what
 * the account can't pay), signed and sent (`sendCalls`), and its receipt (`waitForUserOperation`).
 */
import type { SsoAccount } from '@sso/client/account'
import type { RpcSchema } from '@sso/client/popup'
import { type Address, formatEther, type Hex, http, isAddressEqual } from 'viem'
import {
  type BundlerClient,
  createPaymasterClient,
  entryPoint08Abi,
  formatUserOperationRequest,
  getUserOperationHash,
  type PaymasterClient,
} from 'viem/account-abstraction'
import { getBundlerClient, getPublicClient, tokenInfo } from './chains'
import type { SsoChainConfig } from './config'
import { AccountError } from './errors'
import { decodeRevert, revertDataOf } from './revert'

/** Who pays the gas of a user operation. */
export type GasPayer =
  | { kind: 'sponsor'; address: Address }
  | { kind: 'service'; url: string }
  | { kind: 'account' }

/**
 * The gas payer for a request: the dapp's ERC-7677 service (its `paymasterService` capability), else the chain's
 * configured service (`paymasterServiceUrl` in sso-config.json), else the configured SponsorPaymaster, else the
 * account itself.
 */
export function gasPayer(chain: SsoChainConfig, capabilities?: Record<string, unknown>): GasPayer {
  const service = capabilities?.paymasterService as { url?: unknown } | undefined
  if (service && typeof service.url === 'string') return { kind: 'service', url: service.url }
  if (chain.paymasterServiceUrl) return { kind: 'service', url: chain.paymasterServiceUrl }
  if (chain.contracts.sponsorPaymaster) return { kind: 'sponsor', address: chain.contracts.sponsorPaymaster }
  return { kind: 'account' }
}

/**
 * A paymaster that answers the final `pm_getPaymasterData` with its stub: the operation is built and estimated
 * before the user approves, and the service signs (and counts) it only after (`sendCalls`).
 */
function stubOnly(paymaster: PaymasterClient): PaymasterClient {
  return {
    ...paymaster,
    getPaymasterData: async (parameters: Parameters<PaymasterClient['getPaymasterStubData']>[0]) => {
      const { isFinal: _, sponsor: __, ...stub } = await paymaster.getPaymasterStubData(parameters)
      return stub
    },
  } as PaymasterClient
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

/** ETH amounts in messages: rounded up to 6 decimals (a missing amount is never understated). */
function eth(wei: bigint): string {
  const unit = 10n ** 12n
  return formatEther(((wei + unit - 1n) / unit) * unit)
}

/** What `sendCalls` needs to send a prepared user operation. */
type SendParameters = {
  chain: SsoChainConfig
  account: SsoAccount
  calls: readonly Call[]
  payer: GasPayer
  /**
   * The app the operation is for (the requesting dapp's origin; the auth server's own for its own screens): an
   * ERC-7677 paymaster service sees it in its context `{ app }` and may sponsor by app (docs/paymaster.md).
   */
  app?: string | undefined
  /** Called when the passkey is about to be asked (after every check passed). */
  onSign?: (() => void) | undefined
  /**
   * Called with the userOp hash and the signed operation, right before it goes to the bundler: from then on the
   * operation may be sent whether or not the answer arrives (the popup may close mid-request), so the dapp is told
   * first and given the signed operation to send itself (docs/architecture.md, section 4).
   */
  onSending?: ((userOpHash: Hex, signed: SignedOperation) => void) | undefined
}

/** A signed user operation as the dapp gets it (`submitted`): JSON-RPC form and its EntryPoint. */
export type SignedOperation = { userOperation: RpcSchema.SignedUserOperation; entryPoint: Address }

/** A user operation built and checked, not signed (`prepareCalls`). */
export type PreparedCalls = {
  userOperation: Awaited<ReturnType<BundlerClient['prepareUserOperation']>>
  /** `Date.now()` when it was built: fees and nonce age (`sendCalls` rebuilds one older than `maxPreparedAge`). */
  preparedAt: number
  /** What it was built from (a different request never reuses it). */
  from: Pick<SendParameters, 'chain' | 'account' | 'calls' | 'payer' | 'app'>
}

/**
 * The call gas limit sent for a bundler's estimate: 10% + 5,000 more, at most 30,000 more. Some bundlers (Alto)
 * estimate the gas the call used in simulation, and a call that nests calls needs more than it uses, since each
 * level keeps 1/64 of what it forwards (a passkey change: the account calls the validator, which calls back into
 * the account; docs/webauthn.md). The margin alone stays under the EntryPoint's 40,000 unused-gas penalty
 * threshold (v0.8 charges 10% of all unused execution gas beyond it, the bundler's own margin included).
 */
export function withCallGasHeadroom(estimate: bigint): bigint {
  const margin = estimate / 10n + 5_000n
  return estimate + (margin > 30_000n ? 30_000n : margin)
}

/** How long a prepared operation's fees and nonce are trusted (ms). */
export const maxPreparedAge = 20_000

// The nonce each account last sent with (per nonce key and chain): an operation prepared before it is rebuilt.
const lastSent = new Map<string, bigint>()
const nonceSlot = (chainId: number, account: Address, nonce: bigint) =>
  `${chainId}:${account.toLowerCase()}:${nonce >> 64n}`

/**
 * Builds and checks one user operation with `calls`, without signing: nonce, fees and gas from the bundler (a
 * paymaster service gives only its stub here; it signs once the user approved, so a request the user rejects
 * never counts against its caps). Calls that would revert fail with the decoded reason (-32003, `data.revert`),
 * and an account that can't pay the value it sends or (unless sponsored) the most the gas can cost fails with how
 * much is missing (-32003, `data.missing`). The popup starts it as soon as the request is on screen, so the
 * Approve click only signs and sends.
 */
export async function prepareCalls(from: PreparedCalls['from']): Promise<PreparedCalls> {
  const { chain, account, calls, payer } = from
  const client = getPublicClient(chain)
  const bundler = getBundlerClient(chain)
  const paymaster = paymasterOf(payer)
  const entryPoint = account.entryPoint.address
  const value = calls.reduce((sum, c) => sum + (c.value ?? 0n), 0n)
  const preparedAt = Date.now()
  // The balance reads and the preparation (nonce, fees, gas estimate) go out together.
  const preparation = bundler
    .prepareUserOperation({
      account,
      calls: calls.map((c) => ({ to: c.to, data: c.data ?? '0x', value: c.value ?? 0n })),
      ...(paymaster ? { paymaster: stubOnly(paymaster) } : {}),
      ...(payer.kind === 'service'
        ? { paymasterContext: { app: from.app ?? globalThis.location?.origin } }
        : {}),
      // Self-paid: estimate as if the account could pay, so that the check below can say how much is missing.
      ...(paymaster ? {} : { stateOverride: [{ address: account.address, balance: value + 10n ** 24n }] }),
    })
    .then(
      (prepared) => ({ prepared }),
      (error: unknown) => ({ error }),
    )
  const [balance, deposit] = await Promise.all([
    client.getBalance({ address: account.address }),
    client.readContract({
      address: entryPoint,
      abi: entryPoint08Abi,
      functionName: 'balanceOf',
      args: [account.address],
    }),
  ])
  const cannotPay = (needed: bigint, what: string) =>
    new AccountError(
      `The account can’t pay for this: it needs ${what}, and holds ${eth(balance)} ETH` +
        `${deposit > 0n ? ` plus a ${eth(deposit)} ETH EntryPoint deposit` : ''}. ` +
        `Add at least ${eth(needed - balance)} ETH to ${account.address}, then try again. Nothing was signed.`,
      -32003,
      { data: { reason: 'insufficient-funds', missing: `0x${(needed - balance).toString(16)}` } },
    )
  if (value > balance) throw cannotPay(value, `${eth(value)} ETH to send`)

  const outcome = await preparation
  if ('error' in outcome) {
    const { error } = outcome
    const data = revertDataOf(error)
    if (data !== undefined) {
      // One token among the calls: its errors in its units.
      const targets = [
        ...new Set(calls.filter((c) => (c.data?.length ?? 0) >= 10).map((c) => c.to.toLowerCase())),
      ]
      const token = targets.length === 1 ? await tokenInfo(chain, targets[0] as Address) : undefined
      const revert = decodeRevert(data, { token })
      throw new AccountError(`This transaction would fail: ${revert.text}. Nothing was signed.`, -32003, {
        cause: error,
        data: { reason: 'revert', revert },
      })
    }
    throw (
      refusalOf(error, payer) ??
      asAccountError(error, `Preparing the user operation with ${chain.bundlerUrl} failed`)
    )
  }
  // Before any check of what the gas can cost and before a paymaster signs: the limits it signs are final.
  const prepared = { ...outcome.prepared, callGasLimit: withCallGasHeadroom(outcome.prepared.callGasLimit) }
  if (!paymaster) {
    const gas =
      BigInt(prepared.callGasLimit) +
      BigInt(prepared.verificationGasLimit) +
      BigInt(prepared.preVerificationGas)
    const fee = gas * BigInt(prepared.maxFeePerGas)
    const fromBalance = fee > deposit ? fee - deposit : 0n
    if (value + fromBalance > balance)
      throw cannotPay(
        value + fromBalance,
        `up to ${eth(fee)} ETH for gas${value > 0n ? ` and ${eth(value)} ETH to send` : ''}`,
      )
  }
  return { userOperation: prepared, preparedAt, from }
}

/**
 * Signs (passkey) and sends one user operation with `calls`; resolves with its hash once the bundler took it.
 * `ready` is the operation `prepareCalls` built for the same request while the user read the screen (undefined
 * when that failed: its error is then found again here); without it,
 * or when it is stale (older than `maxPreparedAge`, or an operation with its nonce was sent since), it is built
 * now, with every check of `prepareCalls`. Nothing is signed when a check fails.
 */
export async function sendCalls(
  parameters: SendParameters,
  ready?: Promise<PreparedCalls | undefined>,
): Promise<Hex> {
  const { chain, account, payer } = parameters
  const reuse = await ready
  const fresh = (p: PreparedCalls | undefined): p is PreparedCalls =>
    p !== undefined &&
    p.from.chain.id === chain.id &&
    isAddressEqual(p.from.account.address, account.address) &&
    p.from.payer.kind === payer.kind &&
    Date.now() - p.preparedAt < maxPreparedAge &&
    (lastSent.get(nonceSlot(chain.id, account.address, p.userOperation.nonce)) ?? -1n) < p.userOperation.nonce
  const { userOperation } = fresh(reuse) ? reuse : await prepareCalls(parameters)
  const entryPoint = account.entryPoint.address
  let prepared = userOperation
  if (payer.kind === 'service') {
    // The service signs the final operation now that the user approved (its policy counts it).
    const paymaster = paymasterOf(payer)!
    const final = await paymaster
      .getPaymasterData({
        ...prepared,
        chainId: chain.id,
        entryPointAddress: entryPoint,
        context: { app: parameters.app ?? globalThis.location?.origin },
      })
      .catch((error: unknown) => {
        throw refusalOf(error, payer) ?? asAccountError(error, `The paymaster service ${payer.url} failed`)
      })
    prepared = { ...prepared, paymaster: final.paymaster, paymasterData: final.paymasterData }
  }

  parameters.onSign?.()
  const signature = await account.signUserOperation(prepared)
  const signed = formatUserOperationRequest({ ...prepared, signature })
  parameters.onSending?.(
    getUserOperationHash({
      userOperation: { ...prepared, signature },
      entryPointAddress: entryPoint,
      entryPointVersion: '0.8',
      chainId: chain.id,
    }),
    { userOperation: signed as RpcSchema.SignedUserOperation, entryPoint },
  )
  const slot = nonceSlot(chain.id, account.address, prepared.nonce)
  if ((lastSent.get(slot) ?? -1n) < prepared.nonce) lastSent.set(slot, prepared.nonce)
  try {
    return await getBundlerClient(chain).request({
      method: 'eth_sendUserOperation',
      params: [signed, entryPoint],
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
    // Polled tightly: the bundler answers from the chain's logs, and a devnet includes a userOp in ~100 ms.
    receipt = await bundler.waitForUserOperationReceipt({ hash, timeout: 60_000, pollingInterval: 25 })
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

/** The ERC-7677 service's policy refusal (JSON-RPC -32001, docs/paymaster.md) somewhere in `error`'s causes. */
function notSponsored(error: unknown): { message: string; data: unknown } | undefined {
  for (
    let cause = error as { code?: unknown; cause?: unknown; details?: unknown; data?: unknown } | undefined;
    cause;
  ) {
    if (cause.code === -32001 && typeof cause.details === 'string')
      return { message: cause.details, data: cause.data }
    cause = cause.cause as typeof cause
  }
  return undefined
}

/** The service's refusal as the popup shows it, when `error` is one. */
function refusalOf(error: unknown, payer: GasPayer): AccountError | undefined {
  const refusal = notSponsored(error)
  if (payer.kind !== 'service' || !refusal) return undefined
  return new AccountError(
    `The paymaster service won’t pay for this: ${refusal.message} Nothing was signed.`,
    -32003,
    {
      cause: error,
      data: { reason: 'not-sponsored', service: payer.url, refusal: refusal.data },
    },
  )
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
