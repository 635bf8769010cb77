/**
 * Guardian recovery in the auth server (docs/recovery.md, "In the auth server"): the executor of a chain, the
 * links sent to guardians (a proposal travels in the link), durations in words, what the executor's errors mean,
 * and the reads the recovery screens share.
 */

import { webAuthnValidatorAbi } from '@sso/client/account'
import { Errors } from '@sso/client/popup'
import {
  getRecoveryState,
  guardianExecutorAbi,
  InvalidRecoveryInputError,
  type RecoveryProposal,
  type RecoveryState,
  recoveryId,
} from '@sso/client/recovery'
import { base64UrlToBytes, bytesToBase64Url, bytesToHex, hexToBytes } from '@sso/client/webauthn'
import { type Address, getAddress, type Hex, isAddress, keccak256, zeroAddress } from 'viem'
import { getPublicClient } from './chains'
import { logsFrom, type SsoChainConfig } from './config'
import { AccountError } from './errors'

/** Thrown when a recovery screen's input is wrong; nothing was sent. */
export class RecoveryInputError extends Errors.BaseError {
  override name = 'RecoveryInputError'
}

/** The GuardianExecutor of `chain`. */
export function executorOf(chain: SsoChainConfig): Address {
  const executor = chain.contracts.guardianExecutor
  if (!executor) throw new AccountError(`Chain ${chain.id} has no guardianExecutor in its configuration.`)
  return executor
}

/** A checksummed address from user input, or a {@link RecoveryInputError} saying what is wrong. */
export function parseAddress(input: string, what = 'address'): Address {
  const value = input.trim()
  if (!isAddress(value, { strict: false }) || value.toLowerCase() === zeroAddress)
    throw new RecoveryInputError(`That is not an ${what}: enter 0x followed by 40 hex digits.`)
  return getAddress(value)
}

/** The account's recovery configuration and pending recovery, with the chain's time. */
export async function readRecovery(
  chain: SsoChainConfig,
  account: Address,
): Promise<RecoveryState & { now: bigint }> {
  const client = getPublicClient(chain)
  try {
    const [state, block] = await Promise.all([
      getRecoveryState({ client, executor: executorOf(chain), account }),
      client.getBlock({ blockTag: 'latest' }),
    ])
    return { ...state, now: block.timestamp }
  } catch (error) {
    if (error instanceof AccountError) throw error
    throw new AccountError(
      `Reading the recovery settings from ${chain.rpcUrl} failed: ${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message}`,
      -32603,
      { cause: error },
    )
  }
}

/** Who started the pending recovery `id`, and when (its `RecoveryStarted` event). */
export async function recoveryStarter(
  chain: SsoChainConfig,
  account: Address,
  id: Hex,
): Promise<{ guardian: Address; proposal: RecoveryProposal } | undefined> {
  const logs = await getPublicClient(chain).getContractEvents({
    address: executorOf(chain),
    abi: guardianExecutorAbi,
    eventName: 'RecoveryStarted',
    args: { account, recoveryId: id },
    fromBlock: logsFrom(chain),
  })
  const last = logs.at(-1)
  if (!last?.args.guardian || !last.args.proposal) return undefined
  return { guardian: last.args.guardian, proposal: last.args.proposal as RecoveryProposal }
}

const b64 = (hex: Hex) => bytesToBase64Url(hexToBytes(hex))
const text64 = (text: string) => bytesToBase64Url(new TextEncoder().encode(text))

/**
 * The proposal as one URL parameter: its fields in order, each base64url (strings as UTF-8), joined by `.`, the
 * removed credential ids by `~`, `revokeSessions` as 1 / 0. Only unreserved URL characters: nothing is escaped.
 */
export function encodeProposal(proposal: RecoveryProposal): string {
  return [
    b64(proposal.credentialId),
    b64(proposal.x),
    b64(proposal.y),
    text64(proposal.rpId),
    text64(proposal.origin),
    b64(proposal.proof),
    proposal.removedCredentialIds.map(b64).join('~'),
    proposal.revokeSessions ? '1' : '0',
  ].join('.')
}

/** The proposal of a recovery link, or a {@link RecoveryInputError} when the link is damaged. */
export function decodeProposal(parameter: string): RecoveryProposal {
  const damaged = (cause?: unknown) =>
    new RecoveryInputError(
      'This recovery link is damaged (its proposal does not decode). Ask for the link again.',
      {
        cause,
      },
    )
  const fields = parameter.split('.')
  if (fields.length !== 8 || !/^[A-Za-z0-9_~-]*$/.test(fields.join(''))) throw damaged()
  const [credentialId, x, y, rpId, origin, proof, removed, revoke] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  try {
    const hex = (field: string, bytes?: number) => {
      const decoded = base64UrlToBytes(field)
      if (decoded.length === 0 || (bytes !== undefined && decoded.length !== bytes)) throw damaged()
      return bytesToHex(decoded)
    }
    const text = (field: string) => new TextDecoder('utf-8', { fatal: true }).decode(base64UrlToBytes(field))
    if (revoke !== '0' && revoke !== '1') throw damaged()
    const result: RecoveryProposal = {
      credentialId: hex(credentialId),
      x: hex(x, 32),
      y: hex(y, 32),
      rpId: text(rpId),
      origin: text(origin),
      proof: hex(proof),
      removedCredentialIds: removed === '' ? [] : removed.split('~').map((id) => hex(id)),
      revokeSessions: revoke === '1',
    }
    // The proof's first 4 bytes name its credential (the credential key, docs/webauthn.md): a link whose parts
    // don't belong together is damaged, not a recovery anyone could approve.
    if (result.proof.length < 10 || result.proof.slice(0, 10) !== keccak256(result.credentialId).slice(0, 10))
      throw damaged()
    return result
  } catch (cause) {
    if (cause instanceof RecoveryInputError) throw cause
    throw damaged(cause)
  }
}

/** The link a guardian opens: to accept (`proposal` absent) or to approve a recovery. */
export function guardianLink(account: Address, proposal?: RecoveryProposal): string {
  const url = new URL('/guardian', window.location.origin)
  url.searchParams.set('account', account)
  if (proposal) url.searchParams.set('proposal', encodeProposal(proposal))
  return url.toString()
}

/** Which recovery of the account `proposal` is: the pending one (its id) or not (the id a start would give). */
export function matchProposal(
  state: RecoveryState,
  account: Address,
  proposal: RecoveryProposal,
): { id: Hex; pending: boolean; nonce: bigint } {
  const { pending } = state
  if (pending.status !== 'none') {
    const id = recoveryId({ account, nonce: pending.nonce, proposal })
    if (id === pending.id) return { id, pending: true, nonce: pending.nonce }
  }
  return { id: recoveryId({ account, nonce: state.nonce, proposal }), pending: false, nonce: state.nonce }
}

/** Seconds in words: "24 hours", "2 days 3 hours", "45 minutes", "12 seconds". */
export function formatDuration(seconds: bigint | number): string {
  let s = Math.max(0, Math.floor(Number(seconds)))
  const parts: string[] = []
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ]
  for (const [size, name] of units) {
    const n = Math.floor(s / size)
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`)
    s -= n * size
  }
  if (parts.length === 0) return `${s} second${s === 1 ? '' : 's'}`
  return parts.slice(0, 2).join(' ')
}

/** A chain timestamp as local date and time. */
export function formatTime(timestamp: bigint): string {
  return new Date(Number(timestamp) * 1000).toLocaleString()
}

/** The account's passkeys on chain (credential ids base64url), from the validator's events. */
export async function passkeysOf(
  chain: SsoChainConfig,
  account: Address,
): Promise<{ id: string; origin: string }[]> {
  const validator = chain.contracts.webAuthnValidator
  if (!validator) return []
  const client = getPublicClient(chain)
  const logs = await client.getContractEvents({
    address: validator,
    abi: webAuthnValidatorAbi,
    eventName: 'PasskeyAdded',
    args: { account },
    fromBlock: logsFrom(chain),
  })
  const found: { id: string; origin: string }[] = []
  for (const { args } of logs) {
    if (!args.credentialId || !args.x || !args.y || args.rpId === undefined || args.origin === undefined)
      continue
    const id = bytesToBase64Url(hexToBytes(args.credentialId))
    if (found.some((p) => p.id === id)) continue
    const held = await client.readContract({
      address: validator,
      abi: webAuthnValidatorAbi,
      functionName: 'hasPasskey',
      args: [account, args.credentialId, args.x, args.y, args.rpId, args.origin],
    })
    if (held) found.push({ id, origin: args.origin })
  }
  return found
}

/** What a recovery error means for the person reading it. */
const meanings: Record<string, string> = {
  GuardianNotFound: 'this address is not a guardian of the account (or its proposal was removed)',
  GuardianAlreadyExists: 'this address is already a guardian of the account',
  GuardianAlreadyAccepted: 'this guardian has already accepted',
  GuardianNotAccepted: 'only an accepted guardian of the account can approve a recovery',
  InvalidGuardian: 'a guardian can’t be the zero address or the account itself',
  InvalidGuardianSignature: 'the signature is not the guardian’s signature of exactly this data',
  InvalidThreshold: 'the threshold must be between 1 and the number of accepted guardians',
  InvalidDelay: 'the delay is outside the allowed bounds',
  TooManyGuardians: 'the account already has the most guardians it can have',
  AlreadyApproved: 'this guardian has already approved this recovery',
  RecoveryInProgress:
    'another recovery of this account has reached its threshold; it must be cancelled or expire first',
  NoPendingRecovery: 'there is no pending recovery',
  UnknownRecovery: 'the pending recovery is another one than this link’s',
  RecoveryNotScheduled: 'not enough guardians have approved yet',
  RecoveryNotReady: 'the waiting period is not over yet',
  RecoveryWindowClosed: 'the recovery expired: it was not finalized in time',
  InvalidPasskeyProof: 'the new passkey’s proof does not hold for this account',
  ExecutorNotInstalled: 'this account does not have the recovery module installed',
}

/** A failure of a recovery action as one sentence (the executor's error explained when it is one). */
export function recoveryErrorText(error: unknown): string {
  if (error instanceof RecoveryInputError || error instanceof InvalidRecoveryInputError) {
    const text = error instanceof InvalidRecoveryInputError ? error.shortMessage : error.message
    return `${text}${/[.!?]$/.test(text) ? '' : '.'} Nothing was sent.`
  }
  const message = (error as Error)?.message ?? String(error)
  const name = Object.keys(meanings).find((n) => message.includes(`${n}(`))
  return name ? `${message.split(': ')[0]}: ${meanings[name]}. Nothing changed. (${name})` : message
}

/** Whether the proposal's passkey is on the account, Proven (the recovery was finalized). */
export async function isRecovered(chain: SsoChainConfig, account: Address, proposal: RecoveryProposal) {
  const validator = chain.contracts.webAuthnValidator
  if (!validator) return false
  const state = await getPublicClient(chain).readContract({
    address: validator,
    abi: webAuthnValidatorAbi,
    functionName: 'passkeyState',
    args: [account, proposal.credentialId, proposal.x, proposal.y, proposal.rpId, proposal.origin],
  })
  return state === 2
}

/** The registration nonce of a credential on the account (what its proof of possession signs; 0 when new). */
export async function registrationNonce(chain: SsoChainConfig, account: Address, credentialId: string) {
  const validator = chain.contracts.webAuthnValidator
  if (!validator) throw new AccountError(`Chain ${chain.id} has no webAuthnValidator in its configuration.`)
  return getPublicClient(chain).readContract({
    address: validator,
    abi: webAuthnValidatorAbi,
    functionName: 'registrationNonce',
    args: [account, bytesToHex(base64UrlToBytes(credentialId))],
  })
}
