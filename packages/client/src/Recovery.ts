/**
 * `@sso/client/recovery`: guardian recovery with the GuardianExecutor (docs/recovery.md). Pure builders of the
 * calls each party makes — the account (through a userOp its passkey signs), a guardian (a transaction, or an
 * EIP-712 signature anyone submits) and anyone (finalize, expire) — plus the recovery id, the typed data guardians
 * sign and one read of an account's recovery state.
 */
import { guardianExecutorAbi } from '@sso/contracts-abi'
import { type Address, type Client, encodeFunctionData, type Hex, isHex, size } from 'viem'
import { readContract } from 'viem/actions'
import type { Call } from './Execution.js'
import {
  checkAddress,
  InvalidRecoveryInputError,
  proposalArgs,
  type RecoveryProposal,
  recoveryBounds,
} from './RecoveryProposal.js'

export {
  acceptanceTypedData,
  approvalTypedData,
  guardianExecutorDomain,
  InvalidRecoveryInputError,
  type RecoveryProposal,
  recoveryBounds,
  recoveryId,
  signRecoveryProposal,
  toRecoveryProposal,
} from './RecoveryProposal.js'
export { guardianExecutorAbi }

/** Where a guardian stands for an account (`GuardianStatus`). */
export type GuardianStatus = 'none' | 'proposed' | 'accepted'

/** Where the pending recovery stands at the latest block (`RecoveryStatus`). */
export type RecoveryStatus = 'none' | 'approving' | 'delayed' | 'ready' | 'expired'

/** An account's recovery configuration and pending recovery, as {@link getRecoveryState} reads them. */
export type RecoveryState = {
  guardians: readonly { address: Address; status: Exclude<GuardianStatus, 'none'> }[]
  threshold: bigint
  /** Seconds between the threshold being reached and finalization. */
  delay: bigint
  /** The recovery nonce (ids and guardians' signatures are computed with it). */
  nonce: bigint
  pending: {
    status: RecoveryStatus
    /** 0x00…00 when there is none. */
    id: Hex
    nonce: bigint
    approvals: bigint
    startedAt: bigint
    /** 0 until the threshold is reached. */
    readyAt: bigint
    expiresAt: bigint
  }
}

const recoveryStatuses = ['none', 'approving', 'delayed', 'ready', 'expired'] as const

function call(to: Address, data: Hex): Call {
  return { to, data }
}

// ---------------------------------------------------------------------------------------------------------------
// The account (a userOp its passkey signs; sessions can never make these calls).

/**
 * The account proposes `guardian` (an EOA or a contract checked through ERC-1271); it counts once it accepts.
 *
 * @example
 * ```ts
 * await account.sendCalls([proposeGuardian({ executor, guardian: '0x…' })])
 * ```
 */
export function proposeGuardian(parameters: { executor: Address; guardian: string }): Call {
  const guardian = checkAddress('guardian', parameters.guardian)
  return call(
    parameters.executor,
    encodeFunctionData({ abi: guardianExecutorAbi, functionName: 'proposeGuardian', args: [guardian] }),
  )
}

/**
 * The account removes a proposed or accepted guardian (cancels a pending recovery when it was accepted).
 *
 * @example
 * ```ts
 * const calls = [removeGuardian({ executor, guardian })]
 * ```
 */
export function removeGuardian(parameters: { executor: Address; guardian: string }): Call {
  const guardian = checkAddress('guardian', parameters.guardian)
  return call(
    parameters.executor,
    encodeFunctionData({ abi: guardianExecutorAbi, functionName: 'removeGuardian', args: [guardian] }),
  )
}

/**
 * The account sets how many accepted guardians must approve (1 ≤ threshold ≤ accepted guardians, checked on
 * chain; here only that it is a positive integer of at most {@link recoveryBounds}.maxGuardians).
 *
 * @example
 * ```ts
 * const calls = [setThreshold({ executor, threshold: 2n })]
 * ```
 */
export function setThreshold(parameters: { executor: Address; threshold: bigint }): Call {
  const { threshold } = parameters
  if (threshold < 1n || threshold > BigInt(recoveryBounds.maxGuardians))
    throw new InvalidRecoveryInputError(
      'threshold',
      `threshold must be between 1 and ${recoveryBounds.maxGuardians}, got ${threshold}`,
    )
  return call(
    parameters.executor,
    encodeFunctionData({ abi: guardianExecutorAbi, functionName: 'setThreshold', args: [threshold] }),
  )
}

/**
 * The account sets its recovery delay in seconds, within {@link recoveryBounds} (1 hour .. 30 days).
 *
 * @example
 * ```ts
 * const calls = [setRecoveryDelay({ executor, delay: 48n * 3600n })]
 * ```
 */
export function setRecoveryDelay(parameters: { executor: Address; delay: bigint }): Call {
  const { delay } = parameters
  if (delay < recoveryBounds.minDelay || delay > recoveryBounds.maxDelay)
    throw new InvalidRecoveryInputError(
      'delay',
      `delay must be between ${recoveryBounds.minDelay} and ${recoveryBounds.maxDelay} seconds, got ${delay}`,
    )
  return call(
    parameters.executor,
    encodeFunctionData({ abi: guardianExecutorAbi, functionName: 'setRecoveryDelay', args: [delay] }),
  )
}

/**
 * The account cancels its pending recovery (one passkey approval).
 *
 * @example
 * ```ts
 * const calls = [cancelRecovery({ executor })]
 * ```
 */
export function cancelRecovery(parameters: { executor: Address }): Call {
  return call(
    parameters.executor,
    encodeFunctionData({ abi: guardianExecutorAbi, functionName: 'cancelRecovery' }),
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Guardians.

/**
 * A proposed guardian accepts (a transaction from the guardian).
 *
 * @example
 * ```ts
 * await guardianWallet.sendTransaction(acceptGuardian({ executor, account }))
 * ```
 */
export function acceptGuardian(parameters: { executor: Address; account: string }): Call {
  const account = checkAddress('account', parameters.account)
  return call(
    parameters.executor,
    encodeFunctionData({ abi: guardianExecutorAbi, functionName: 'acceptGuardian', args: [account] }),
  )
}

/**
 * An accepted guardian starts a recovery with `proposal` (and approves it): a transaction from the guardian.
 *
 * @example
 * ```ts
 * await guardianWallet.sendTransaction(startRecovery({ executor, account, proposal }))
 * ```
 */
export function startRecovery(parameters: {
  executor: Address
  account: string
  proposal: RecoveryProposal
}): Call {
  return proposalCall('startRecovery', parameters)
}

/**
 * An accepted guardian approves the pending recovery `id` (a transaction from the guardian).
 *
 * @example
 * ```ts
 * await guardianWallet.sendTransaction(approveRecovery({ executor, account, id }))
 * ```
 */
export function approveRecovery(parameters: { executor: Address; account: string; id: Hex }): Call {
  const account = checkAddress('account', parameters.account)
  if (!isHex(parameters.id, { strict: true }) || size(parameters.id) !== 32)
    throw new InvalidRecoveryInputError('id', `id is not a 32-byte hex recovery id: ${parameters.id}`)
  return call(
    parameters.executor,
    encodeFunctionData({
      abi: guardianExecutorAbi,
      functionName: 'approveRecovery',
      args: [account, parameters.id],
    }),
  )
}

/**
 * Submits guardians' EIP-712 signatures of {@link approvalTypedData} (starts the recovery when it is not the
 * pending one). Anyone can send it: the guardians need no gas.
 *
 * @example
 * ```ts
 * const signature = await guardian.signTypedData(approvalTypedData({ executor, chainId, account, nonce, proposal }))
 * await relayer.sendTransaction(approveRecoveryWithSignatures({ executor, account, proposal,
 *   signatures: [{ guardian: guardian.address, signature }] }))
 * ```
 */
export function approveRecoveryWithSignatures(parameters: {
  executor: Address
  account: string
  proposal: RecoveryProposal
  signatures: readonly { guardian: string; signature: Hex }[]
}): Call {
  const account = checkAddress('account', parameters.account)
  if (parameters.signatures.length === 0)
    throw new InvalidRecoveryInputError('signatures', 'at least one guardian signature is needed')
  const signatures = parameters.signatures.map(({ guardian, signature }) => ({
    guardian: checkAddress('guardian', guardian),
    signature,
  }))
  return call(
    parameters.executor,
    encodeFunctionData({
      abi: guardianExecutorAbi,
      functionName: 'approveRecoveryWithSignatures',
      args: [account, proposalArgs(parameters.proposal), signatures],
    }),
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Anyone.

/**
 * Finalizes the account's scheduled recovery once its delay has elapsed (anyone; the proposal must be the one
 * the guardians approved).
 *
 * @example
 * ```ts
 * await wallet.sendTransaction(finalizeRecovery({ executor, account, proposal }))
 * ```
 */
export function finalizeRecovery(parameters: {
  executor: Address
  account: string
  proposal: RecoveryProposal
}): Call {
  return proposalCall('finalizeRecovery', parameters)
}

/**
 * Clears the account's expired recovery (anyone).
 *
 * @example
 * ```ts
 * await wallet.sendTransaction(expireRecovery({ executor, account }))
 * ```
 */
export function expireRecovery(parameters: { executor: Address; account: string }): Call {
  const account = checkAddress('account', parameters.account)
  return call(
    parameters.executor,
    encodeFunctionData({ abi: guardianExecutorAbi, functionName: 'expireRecovery', args: [account] }),
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Reads.

/**
 * Reads an account's guardians, threshold, delay, recovery nonce and pending recovery (at the latest block).
 *
 * @example
 * ```ts
 * const { pending } = await getRecoveryState({ client, executor, account })
 * if (pending.status === 'delayed') showBanner(pending.readyAt)
 * ```
 */
export async function getRecoveryState(parameters: {
  client: Client
  executor: Address
  account: string
}): Promise<RecoveryState> {
  const { client, executor } = parameters
  const account = checkAddress('account', parameters.account)
  const at = { address: executor, abi: guardianExecutorAbi, args: [account] } as const
  const [[addresses, accepted], threshold, delay, nonce, pending] = await Promise.all([
    readContract(client, { ...at, functionName: 'guardiansOf' }),
    readContract(client, { ...at, functionName: 'threshold' }),
    readContract(client, { ...at, functionName: 'recoveryDelay' }),
    readContract(client, { ...at, functionName: 'recoveryNonce' }),
    readContract(client, { ...at, functionName: 'recoveryState' }),
  ])
  return {
    guardians: addresses.map((address, i) => ({
      address,
      status: accepted[i] ? ('accepted' as const) : ('proposed' as const),
    })),
    threshold,
    delay,
    nonce,
    pending: {
      status: recoveryStatuses[pending.status] ?? 'none',
      id: pending.id,
      nonce: pending.nonce,
      approvals: pending.approvals,
      startedAt: pending.startedAt,
      readyAt: pending.readyAt,
      expiresAt: pending.expiresAt,
    },
  }
}

/** A call of the executor that takes the account and a recovery proposal. */
function proposalCall(
  functionName: 'startRecovery' | 'finalizeRecovery',
  parameters: { executor: Address; account: string; proposal: RecoveryProposal },
): Call {
  const account = checkAddress('account', parameters.account)
  return call(
    parameters.executor,
    encodeFunctionData({
      abi: guardianExecutorAbi,
      functionName,
      args: [account, proposalArgs(parameters.proposal)],
    }),
  )
}
