/**
 * What a guardian does (docs/recovery.md, "In the auth server"): an SSO guardian calls the executor from a userOp
 * of its own account (one passkey approval, sponsored like every userOp here); an EOA guardian signs EIP-712 typed
 * data - with an injected wallet or anywhere else - and the relay account submits the signature, so the guardian
 * needs no gas. Every signature is checked here before it is sent.
 */
import type { SsoAccount } from '@sso/client/account'
import {
  acceptanceTypedData,
  acceptGuardian,
  approvalTypedData,
  approveRecovery,
  approveRecoveryWithSignatures,
  finalizeRecovery,
  guardianExecutorAbi,
  type RecoveryProposal,
  startRecovery,
} from '@sso/client/recovery'
import {
  type Address,
  type EIP1193Provider,
  encodeFunctionData,
  type Hex,
  isHex,
  type TypedDataDefinition,
} from 'viem'
import { getPublicClient } from './chains'
import type { SsoChainConfig } from './config'
import { executorOf, matchProposal, RecoveryInputError, readRecovery } from './recovery'
import { relayCalls } from './relay'
import { type Call, gasPayer, sendCalls, waitForUserOperation } from './userOperations'

/** Where `guardian` stands for `account`, and the number of the proposal that made it one. */
export async function guardianStatus(chain: SsoChainConfig, account: Address, guardian: Address) {
  const [status, proposal] = await getPublicClient(chain).readContract({
    address: executorOf(chain),
    abi: guardianExecutorAbi,
    functionName: 'guardianStatus',
    args: [account, guardian],
  })
  return { status: (['none', 'proposed', 'accepted'] as const)[status] ?? 'none', proposal }
}

/** Sends `calls` from an SSO account (one passkey approval) and waits until they ran. */
export async function sendFromAccount(chain: SsoChainConfig, account: SsoAccount, calls: readonly Call[]) {
  const hash = await sendCalls({ chain, account, calls, payer: gasPayer(chain) })
  await waitForUserOperation(chain, hash)
}

async function mustBeProposed(chain: SsoChainConfig, account: Address, guardian: Address) {
  const { status, proposal } = await guardianStatus(chain, account, guardian)
  if (status === 'accepted') throw new RecoveryInputError(`${guardian} has already accepted: nothing to do.`)
  if (status === 'none')
    throw new RecoveryInputError(
      `${guardian} is not a proposed guardian of ${account}. Ask the account’s owner to add this address first.`,
    )
  return proposal
}

async function mustBeAccepted(chain: SsoChainConfig, account: Address, guardian: Address) {
  const { status } = await guardianStatus(chain, account, guardian)
  if (status !== 'accepted')
    throw new RecoveryInputError(
      status === 'proposed'
        ? `${guardian} has not accepted being a guardian of ${account} yet: only accepted guardians approve.`
        : `${guardian} is not a guardian of ${account}.`,
    )
}

/** An SSO guardian accepts: `acceptGuardian(account)` from its own account. */
export async function acceptAsAccount(chain: SsoChainConfig, guardian: SsoAccount, account: Address) {
  await mustBeProposed(chain, account, guardian.address)
  await sendFromAccount(chain, guardian, [acceptGuardian({ executor: executorOf(chain), account })])
}

/** An SSO guardian approves `proposal`: approves the pending recovery, or starts it. */
export async function approveAsAccount(
  chain: SsoChainConfig,
  guardian: SsoAccount,
  account: Address,
  proposal: RecoveryProposal,
) {
  await mustBeAccepted(chain, account, guardian.address)
  const executor = executorOf(chain)
  const match = matchProposal(await readRecovery(chain, account), account, proposal)
  await sendFromAccount(chain, guardian, [
    match.pending
      ? approveRecovery({ executor, account, id: match.id })
      : startRecovery({ executor, account, proposal }),
  ])
}

/** What an EOA guardian signs to accept. */
export async function acceptanceData(chain: SsoChainConfig, account: Address, guardian: Address) {
  const proposal = await mustBeProposed(chain, account, guardian)
  return acceptanceTypedData({ executor: executorOf(chain), chainId: chain.id, account, guardian, proposal })
}

/** What a guardian signs to approve `proposal` (the pending recovery's nonce, or the next one's). */
export async function approvalData(chain: SsoChainConfig, account: Address, proposal: RecoveryProposal) {
  const { nonce } = matchProposal(await readRecovery(chain, account), account, proposal)
  return approvalTypedData({ executor: executorOf(chain), chainId: chain.id, account, nonce, proposal })
}

async function checkSignature(
  chain: SsoChainConfig,
  guardian: Address,
  typedData: TypedDataDefinition,
  signature: string,
) {
  const value = signature.trim()
  if (!isHex(value, { strict: true }) || value.length < 132)
    throw new RecoveryInputError('That is not a signature: paste the 0x… hex the wallet returned.')
  let valid = false
  try {
    valid = await getPublicClient(chain).verifyTypedData({
      address: guardian,
      signature: value,
      ...typedData,
    } as never)
  } catch {
    valid = false
  }
  if (!valid)
    throw new RecoveryInputError(
      `This signature is not ${guardian}’s signature of the data shown (another key, or other data was signed).`,
    )
  return value as Hex
}

/** Submits an EOA guardian's acceptance signature through the relay account. */
export async function submitAcceptance(
  chain: SsoChainConfig,
  account: Address,
  guardian: Address,
  signature: string,
) {
  const typedData = await acceptanceData(chain, account, guardian)
  const checked = await checkSignature(chain, guardian, typedData as TypedDataDefinition, signature)
  await relayCalls(chain, [
    {
      to: executorOf(chain),
      data: encodeFunctionData({
        abi: guardianExecutorAbi,
        functionName: 'acceptGuardianWithSignature',
        args: [account, guardian, checked],
      }),
    },
  ])
}

/** Submits an EOA guardian's approval signature through the relay account (starts the recovery if needed). */
export async function submitApproval(
  chain: SsoChainConfig,
  account: Address,
  proposal: RecoveryProposal,
  guardian: Address,
  signature: string,
) {
  await mustBeAccepted(chain, account, guardian)
  const typedData = await approvalData(chain, account, proposal)
  const checked = await checkSignature(chain, guardian, typedData as TypedDataDefinition, signature)
  await relayCalls(chain, [
    approveRecoveryWithSignatures({
      executor: executorOf(chain),
      account,
      proposal,
      signatures: [{ guardian, signature: checked }],
    }),
  ])
}

/** Finalizes the account's recovery with `proposal` through the relay account. */
export async function finalizeThroughRelay(
  chain: SsoChainConfig,
  account: Address,
  proposal: RecoveryProposal,
) {
  const state = await readRecovery(chain, account)
  const match = matchProposal(state, account, proposal)
  if (!match.pending)
    throw new RecoveryInputError(
      'This recovery is not the account’s pending one (it was cancelled or replaced).',
    )
  if (state.pending.status === 'approving')
    throw new RecoveryInputError('Not enough guardians have approved yet: it can’t be finalized.')
  if (state.pending.status === 'delayed')
    throw new RecoveryInputError('The waiting period is not over yet: it can’t be finalized before it ends.')
  if (state.pending.status === 'expired')
    throw new RecoveryInputError('This recovery expired: it was not finalized in time. Start a new one.')
  await relayCalls(chain, [finalizeRecovery({ executor: executorOf(chain), account, proposal })])
}

// ---------------------------------------------------------------------------------------------------------------
// An injected wallet (EIP-1193, `window.ethereum`).

function injected(): EIP1193Provider | undefined {
  const provider = (window as { ethereum?: EIP1193Provider }).ethereum
  return typeof provider?.request === 'function' ? provider : undefined
}

/** Whether the browser has an injected wallet. */
export function hasWallet(): boolean {
  return injected() !== undefined
}

/** Asks the injected wallet for its address. */
export async function connectWallet(): Promise<Address> {
  const provider = injected()
  if (!provider)
    throw new RecoveryInputError('No wallet in this browser: sign elsewhere and paste the signature.')
  const [address] = await provider.request({ method: 'eth_requestAccounts' })
  if (!address) throw new RecoveryInputError('The wallet shared no address.')
  return address
}

/** EIP-712 typed data as `eth_signTypedData_v4` takes it (JSON, numbers as decimal strings). */
export function typedDataJson(typedData: TypedDataDefinition): string {
  const domainTypes = [
    { name: 'name', type: 'string' },
    { name: 'version', type: 'string' },
    { name: 'chainId', type: 'uint256' },
    { name: 'verifyingContract', type: 'address' },
  ]
  return JSON.stringify(
    { ...typedData, types: { EIP712Domain: domainTypes, ...typedData.types } },
    (_, v) => (typeof v === 'bigint' ? v.toString() : v),
    2,
  )
}

/** Has the injected wallet sign `typedData` as `address`. */
export async function signWithWallet(address: Address, typedData: TypedDataDefinition): Promise<Hex> {
  const provider = injected()
  if (!provider) throw new RecoveryInputError('No wallet in this browser.')
  return provider.request({ method: 'eth_signTypedData_v4', params: [address, typedDataJson(typedData)] })
}
