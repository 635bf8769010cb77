/**
 * What an entry says (docs/dashboard.md, "History"): the account's logs and the ETH its calls moved, decoded into
 * `HistoryEntry` drafts. Every source decodes with this one module, so the node-logs source and the indexer source
 * give the same entries for the same chain data.
 */
import { decodeSessionSpec } from '@sso/client/session'
import {
  guardianExecutorAbi,
  sessionKeyValidatorAbi,
  ssoAccountAbi,
  webAuthnValidatorAbi,
} from '@sso/contracts-abi'
import {
  type Abi,
  type Address,
  decodeEventLog,
  erc20Abi,
  getAddress,
  type Hex,
  isAddressEqual,
  numberToHex,
  pad,
  zeroAddress,
} from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { formatAmount, shortHex } from '../format'
import { decodeRevert } from '../revert'
import type { HistoryEntry, UserOpSigner } from './HistorySource'

/** A chain as the sources need it: its contracts and tokens (a `/sso-config.json` chain fits). */
export type HistoryChain = {
  id: number
  contracts: Record<string, Address | undefined> & { entryPoint: Address }
  tokens: readonly { address: Address; symbol: string; decimals: number }[]
}

/** A log as `eth_getLogs` answers it. */
export type RawLog = {
  address: Address
  topics: Hex[]
  data: Hex
  blockNumber: Hex
  transactionHash: Hex
  transactionIndex: Hex
  logIndex: Hex
}

/** A call as `trace_filter` answers it. */
export type RawTrace = {
  action: { from: Address; to?: Address; value?: Hex; callType?: string }
  blockNumber: number
  transactionHash: Hex
  transactionPosition: number
  traceAddress: number[]
  type: string
  error?: string
}

/** An entry before its block time is known. */
export type Draft = Omit<HistoryEntry, 'timestamp' | 'id' | 'after' | 'chainId'>

export const erc20Transfer = erc20Abi.filter((item) => item.type === 'event' && item.name === 'Transfer')
export const entryPointEvents = (entryPoint08Abi as Abi).filter(
  (item) =>
    item.type === 'event' &&
    (item.name === 'UserOperationEvent' || item.name === 'UserOperationRevertReason'),
)
const accountEvents = (ssoAccountAbi as Abi).filter(
  (item) => item.type === 'event' && (item.name === 'ModuleInstalled' || item.name === 'ModuleUninstalled'),
)
const moduleEvents = [
  ...(sessionKeyValidatorAbi as Abi),
  ...(webAuthnValidatorAbi as Abi),
  ...(guardianExecutorAbi as Abi),
].filter((item) => item.type === 'event')

const moduleTypes: Record<string, string> = {
  '1': 'validator',
  '2': 'executor',
  '3': 'fallback handler',
  '4': 'hook',
}

/** The decoder of one account's data on one chain. */
export type EntryDecoder = {
  /** A log's entry; `reverts` maps a userOp hash to its `UserOperationRevertReason` (same transaction). */
  fromLog(log: RawLog, reverts: ReadonlyMap<string, Hex>): Draft | undefined
  /**
   * A call's entry. `rank`: its place among the calls the account's entries list in that transaction, in call
   * order (depth first), so that every source gives the entry the same `order`.
   */
  fromTrace(trace: RawTrace, rank: number): Draft | undefined
  /** The entries of calls as `trace_filter` finds them: deduplicated, the listed ones ranked, decoded. */
  fromTraces(traces: readonly RawTrace[]): Draft[]
}

/**
 * Whether a call moved ETH the history lists: a plain successful call with value, not the account's prefund to the
 * EntryPoint (that is gas: its user operation's entry shows the fee).
 */
export function isListedCall(
  call: {
    type: string
    callType?: string | undefined
    error?: string | undefined
    to?: Address | undefined
    from: Address
    value: bigint
  },
  account: Address,
  entryPoint: Address,
): boolean {
  if (call.type !== 'call' || call.error || call.value === 0n || !call.to) return false
  if (call.callType && call.callType !== 'call') return false
  return !(isAddressEqual(call.from, account) && isAddressEqual(call.to, entryPoint))
}

/**
 * @example
 * ```ts
 * const decoder = createEntryDecoder(chain, account)
 * const draft = decoder.fromLog(log, new Map())
 * ```
 */
export function createEntryDecoder(chain: HistoryChain, account: Address): EntryDecoder {
  const names = moduleNames(chain)

  function isListedTrace(trace: RawTrace): boolean {
    return isListedCall(
      {
        type: trace.type,
        callType: trace.action.callType,
        error: trace.error,
        to: trace.action.to,
        from: trace.action.from,
        value: BigInt(trace.action.value ?? '0x0'),
      },
      account,
      chain.contracts.entryPoint,
    )
  }

  function position(log: RawLog) {
    return {
      blockNumber: BigInt(log.blockNumber),
      order: Number(BigInt(log.transactionIndex)) * 1_000_000 + 100_000 + Number(BigInt(log.logIndex)),
      transactionHash: log.transactionHash,
    }
  }

  function fromLog(log: RawLog, reverts: ReadonlyMap<string, Hex>): Draft | undefined {
    const at = position(log)
    const c = chain.contracts
    if (isAddressEqual(log.address, c.entryPoint)) {
      const decoded = tryDecode(entryPointEvents, log)
      if (decoded?.eventName !== 'UserOperationEvent') return undefined
      const args = decoded.args as unknown as {
        userOpHash: Hex
        paymaster: Address
        nonce: bigint
        success: boolean
        actualGasCost: bigint
      }
      const validator = validatorOfNonce(args.nonce)
      const signer: UserOpSigner =
        c.webAuthnValidator && isAddressEqual(validator, c.webAuthnValidator)
          ? 'passkey'
          : c.sessionKeyValidator && isAddressEqual(validator, c.sessionKeyValidator)
            ? 'session'
            : 'other'
      const paymaster = isAddressEqual(args.paymaster, zeroAddress) ? undefined : args.paymaster
      const revert = reverts.get(args.userOpHash)
      const fee = `fee ${formatAmount(args.actualGasCost, 18, 'ETH')} ${paymaster ? `paid by ${names(paymaster)}` : 'paid by the account'}`
      return {
        ...at,
        kind: 'user-operation',
        title:
          signer === 'passkey'
            ? 'Passkey transaction'
            : signer === 'session'
              ? 'Session transaction'
              : 'Transaction',
        detail: args.success ? fee : `Reverted${revert ? `: ${decodeRevert(revert).text}` : ''}; ${fee}`,
        counterparty: signer === 'other' ? validator : undefined,
        status: args.success ? 'success' : 'reverted',
        userOp: { hash: args.userOpHash, signer, validator, paymaster, gasCost: args.actualGasCost },
        userOpHash: args.userOpHash,
      }
    }
    if (isAddressEqual(log.address, account)) {
      const decoded = tryDecode(accountEvents, log)
      if (!decoded) return undefined
      const args = decoded.args as unknown as { moduleTypeId: bigint; module: Address }
      const type = moduleTypes[String(args.moduleTypeId)] ?? `module type ${args.moduleTypeId}`
      const installed = decoded.eventName === 'ModuleInstalled'
      return {
        ...at,
        kind: installed ? 'module-installed' : 'module-uninstalled',
        title: installed ? `Module installed (${type})` : `Module removed (${type})`,
        detail: names(args.module),
        counterparty: args.module,
      }
    }
    const transfer = log.topics[0] && log.topics.length === 3 ? tryDecode(erc20Transfer, log) : undefined
    if (transfer) {
      const args = transfer.args as unknown as { from: Address; to: Address; value: bigint }
      const token = chain.tokens.find((t) => isAddressEqual(t.address, log.address))
      const out = isAddressEqual(args.from, account)
      const minted = !out && isAddressEqual(args.from, zeroAddress)
      const unit = token
        ? { symbol: token.symbol, decimals: token.decimals }
        : { symbol: `units of ${shortHex(log.address)}`, decimals: 0 }
      return {
        ...at,
        kind: out ? 'token-out' : 'token-in',
        title: out ? 'Sent' : 'Received',
        detail: minted
          ? `${formatAmount(args.value, unit.decimals, unit.symbol)} minted`
          : `${formatAmount(args.value, unit.decimals, unit.symbol)} ${out ? 'to' : 'from'} ${shortHex(out ? args.to : args.from)}`,
        counterparty: minted ? undefined : out ? args.to : args.from,
        amount: { value: args.value, ...unit, direction: out ? 'out' : 'in' },
      }
    }
    const decoded = tryDecode(moduleEvents, log)
    if (!decoded) return undefined
    const args = decoded.args
    switch (decoded.eventName) {
      case 'SessionCreated': {
        let detail = `session ${shortHex(args.sessionId as Hex, 10, 6)}`
        try {
          const spec = decodeSessionSpec(args.spec as Hex)
          const policies = spec.callPolicies.length + spec.transferPolicies.length
          detail += `, ${policies} polic${policies === 1 ? 'y' : 'ies'}`
        } catch {
          // An event is chain data: a spec that does not decode is still a session, shown by id.
        }
        return {
          ...at,
          kind: 'session-created',
          title: 'Session created',
          detail,
          sessionId: args.sessionId as Hex,
        }
      }
      case 'SessionRevoked':
        return {
          ...at,
          kind: 'session-revoked',
          title: 'Session revoked',
          detail: `session ${shortHex(args.sessionId as Hex, 10, 6)}`,
          sessionId: args.sessionId as Hex,
        }
      case 'AllSessionsRevoked':
        return { ...at, kind: 'sessions-revoked', title: 'Every session revoked' }
      case 'PasskeyAdded':
        return { ...at, kind: 'passkey-added', title: 'Passkey added', detail: `for ${String(args.origin)}` }
      case 'PasskeyRemoved':
        return { ...at, kind: 'passkey-removed', title: 'Passkey removed' }
      case 'GuardianProposed':
      case 'GuardianAccepted':
      case 'GuardianRemoved': {
        const verb = decoded.eventName.slice('Guardian'.length).toLowerCase()
        const guardian = args.guardian as Address
        return {
          ...at,
          kind: 'guardian',
          title: `Guardian ${verb}`,
          detail: shortHex(guardian),
          counterparty: guardian,
        }
      }
      case 'ThresholdChanged':
        return {
          ...at,
          kind: 'guardian',
          title: 'Guardian threshold changed',
          detail: `now ${String(args.threshold)}`,
        }
      case 'RecoveryDelayChanged':
        return {
          ...at,
          kind: 'guardian',
          title: 'Recovery delay changed',
          detail: `now ${String(args.delay)} s`,
        }
      case 'RecoveryStarted':
      case 'RecoveryApproved':
      case 'RecoveryScheduled':
      case 'RecoveryCancelled':
      case 'RecoveryFinalized':
      case 'RecoveryExpired': {
        const verb = decoded.eventName.slice('Recovery'.length).toLowerCase()
        const guardian = (args.guardian ?? args.by) as Address | undefined
        return {
          ...at,
          kind: 'recovery',
          title: `Recovery ${verb}`,
          detail: guardian ? `by ${shortHex(guardian)}` : undefined,
          counterparty: guardian,
        }
      }
      default:
        return undefined
    }
  }

  function fromTrace(trace: RawTrace, rank: number): Draft | undefined {
    if (!isListedTrace(trace)) return undefined
    const value = BigInt(trace.action.value ?? '0x0')
    const out = isAddressEqual(trace.action.from, account)
    const other = getAddress(out ? trace.action.to! : trace.action.from)
    return {
      blockNumber: BigInt(trace.blockNumber),
      order: trace.transactionPosition * 1_000_000 + Math.min(rank, 99_999),
      transactionHash: trace.transactionHash,
      kind: out ? 'eth-out' : 'eth-in',
      title: out ? 'Sent' : 'Received',
      detail: `${formatAmount(value, 18, 'ETH')} ${out ? 'to' : 'from'} ${shortHex(other)}`,
      counterparty: other,
      amount: { value, symbol: 'ETH', decimals: 18, direction: out ? 'out' : 'in' },
    }
  }

  function fromTraces(traces: readonly RawTrace[]): Draft[] {
    // A trace found by `fromAddress` and by `toAddress` is one call.
    const seen = new Map<string, RawTrace>()
    for (const trace of traces)
      if (isListedTrace(trace)) seen.set(`${trace.transactionHash}:${trace.traceAddress.join('.')}`, trace)
    const byTx = new Map<string, RawTrace[]>()
    for (const trace of seen.values()) {
      const list = byTx.get(trace.transactionHash) ?? []
      list.push(trace)
      byTx.set(trace.transactionHash, list)
    }
    const drafts: Draft[] = []
    for (const list of byTx.values()) {
      // Call order: `traceAddress` compared element by element is depth-first order.
      list.sort((a, b) => compareTraceAddress(a.traceAddress, b.traceAddress))
      list.forEach((trace, rank) => {
        const draft = fromTrace(trace, rank)
        if (draft) drafts.push(draft)
      })
    }
    return drafts
  }

  return { fromLog, fromTrace, fromTraces }
}

function compareTraceAddress(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** The validator a user operation's nonce selects: the top 20 bytes of its 24-byte key (docs/interfaces.md). */
export function validatorOfNonce(nonce: bigint): Address {
  const validator = (nonce >> 96n) & ((1n << 160n) - 1n)
  return pad(numberToHex(validator), { size: 20 }) as Address
}

/** A log decoded against `abi` (events with named arguments), or undefined when none of its events match. */
export function tryDecode(
  abi: readonly unknown[],
  log: RawLog,
): { eventName: string; args: Record<string, unknown> } | undefined {
  try {
    const decoded = decodeEventLog({
      abi: abi as Abi,
      data: log.data,
      topics: log.topics as [Hex, ...Hex[]],
      strict: true,
    })
    return { eventName: decoded.eventName ?? '', args: (decoded.args ?? {}) as Record<string, unknown> }
  } catch {
    return undefined
  }
}

/** Names of the modules this chain ships (by address), for entries about modules. */
function moduleNames(chain: HistoryChain): (address: Address) => string {
  const labels: Record<string, string> = {
    webAuthnValidator: 'WebAuthnValidator (passkeys)',
    sessionKeyValidator: 'SessionKeyValidator (sessions)',
    guardianExecutor: 'GuardianExecutor (recovery)',
    sponsorPaymaster: 'the SponsorPaymaster',
  }
  return (address) => {
    const name = Object.entries(chain.contracts).find(([, a]) => a && isAddressEqual(a, address))?.[0]
    return name ? (labels[name] ?? name) : shortHex(address)
  }
}
