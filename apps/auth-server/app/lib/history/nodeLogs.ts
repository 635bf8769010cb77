/**
 * The node-logs history source (docs/dashboard.md, "History"): the account's events read with `eth_getLogs` and,
 * where the node offers it, the ETH its calls moved with `trace_filter`, in bounded block ranges walked from the
 * newest block back to `fromBlock`. Right for the devnet and short ranges; an indexer serves long histories.
 *
 * Per range, one JSON-RPC batch: EntryPoint `UserOperationEvent` / `UserOperationRevertReason` of the account,
 * ERC-20 `Transfer` from and to it, the SessionKeyValidator's, WebAuthnValidator's and GuardianExecutor's events
 * naming it, the account's own `ModuleInstalled` / `ModuleUninstalled`, and two `trace_filter` calls.
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
  encodeEventTopics,
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
import {
  compareNewestFirst,
  type HistoryCursor,
  type HistoryEntry,
  type HistoryPage,
  type HistorySource,
  InvalidCursorError,
  type UserOpSigner,
} from './HistorySource'

/** The JSON-RPC the source needs (a viem client's `request`; tests pass a fake). */
export type NodeRpc = { request(args: { method: string; params?: unknown }): Promise<unknown> }

/** A chain as the source needs it: its contracts and tokens (a `/sso-config.json` chain fits). */
export type HistoryChain = {
  id: number
  contracts: Record<string, Address | undefined> & { entryPoint: Address }
  tokens: readonly { address: Address; symbol: string; decimals: number }[]
}

export type NodeLogsOptions = {
  chain: HistoryChain
  account: Address
  rpc: NodeRpc
  /** The oldest block searched (default 0: the whole devnet chain). */
  fromBlock?: bigint | undefined
  /** Blocks per `eth_getLogs` range (default 5,000; public nodes often refuse more than 10,000). */
  blockRange?: bigint | undefined
  /** Ranges searched at most per page before answering with what was found (default 20). */
  maxRangesPerPage?: number | undefined
  /** Blocks per `trace_filter` call (default 300: anvil refuses more). */
  traceRange?: bigint | undefined
}

/** Why plain ETH transfers may be missing: they leave no log. */
export const noTraceNote =
  'ETH received by plain transfers, and ETH sent by calls, leave no log: this node has no trace_filter, so they are not listed (balances are still right).'

const erc20Transfer = erc20Abi.filter((item) => item.type === 'event' && item.name === 'Transfer')
const entryPointEvents = (entryPoint08Abi as Abi).filter(
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

type RawLog = {
  address: Address
  topics: Hex[]
  data: Hex
  blockNumber: Hex
  transactionHash: Hex
  transactionIndex: Hex
  logIndex: Hex
}

type RawTrace = {
  action: { from: Address; to?: Address; value?: Hex; callType?: string }
  blockNumber: number
  transactionHash: Hex
  transactionPosition: number
  traceAddress: number[]
  type: string
  error?: string
}

/** An entry before its block time is known. */
type Draft = Omit<HistoryEntry, 'timestamp' | 'id' | 'after' | 'chainId'>

const moduleTypes: Record<string, string> = {
  '1': 'validator',
  '2': 'executor',
  '3': 'fallback handler',
  '4': 'hook',
}

/**
 * The node-logs source of one account on one chain.
 *
 * @example
 * ```ts
 * const source = createNodeLogsSource({ chain, account, rpc: getBatchClient(chain) })
 * const { entries, next } = await source.page(undefined, 20)
 * ```
 */
export function createNodeLogsSource(options: NodeLogsOptions): HistorySource {
  const { chain, account, rpc } = options
  const floor = options.fromBlock ?? 0n
  const range = options.blockRange ?? 5_000n
  const maxRanges = options.maxRangesPerPage ?? 20
  const traceRange = options.traceRange ?? 300n
  const accountTopic = pad(account.toLowerCase() as Hex, { size: 32 })
  let traces: boolean | undefined
  /** What each range held (its entries before block times), by `<from>:<to>`. */
  const scanned = new Map<string, Draft[]>()
  const names = moduleNames(chain)

  async function scan(from: bigint, to: bigint): Promise<Draft[]> {
    const c = chain.contracts
    const modules = [c.sessionKeyValidator, c.webAuthnValidator, c.guardianExecutor].filter(
      (a): a is Address => a !== undefined,
    )
    const window = { fromBlock: numberToHex(from), toBlock: numberToHex(to) }
    const [opTopic] = encodeEventTopics({ abi: entryPointEvents, eventName: 'UserOperationEvent' })
    const [revertTopic] = encodeEventTopics({ abi: entryPointEvents, eventName: 'UserOperationRevertReason' })
    const [transferTopic] = encodeEventTopics({ abi: erc20Transfer, eventName: 'Transfer' })
    const getLogs = (filter: Record<string, unknown>) =>
      rpc.request({ method: 'eth_getLogs', params: [{ ...window, ...filter }] }) as Promise<RawLog[]>
    // trace_filter in sub-ranges of `traceRange` blocks (nodes bound it more tightly than eth_getLogs).
    const traceFilter = async (filter: Record<string, unknown>) => {
      const parts: Promise<RawTrace[]>[] = []
      for (let low = from; low <= to; low += traceRange) {
        const high = low + traceRange - 1n < to ? low + traceRange - 1n : to
        parts.push(traceFilterRange({ ...filter, fromBlock: numberToHex(low), toBlock: numberToHex(high) }))
      }
      return (await Promise.all(parts)).flat()
    }
    const traceFilterRange = (filter: Record<string, unknown>) =>
      traces === false
        ? Promise.resolve([] as RawTrace[])
        : (rpc.request({ method: 'trace_filter', params: [filter] }) as Promise<RawTrace[]>).then(
            (found) => {
              traces = true
              return found
            },
            (error: unknown) => {
              // A node without traces answers "method not found" / "not supported": list what logs can show.
              if (traces !== true && isUnsupported(error)) {
                traces = false
                return [] as RawTrace[]
              }
              throw error
            },
          )
    const [ops, sent, received, moduleLogs, own, tracesFrom, tracesTo] = await Promise.all([
      getLogs({ address: c.entryPoint, topics: [[opTopic, revertTopic], null, accountTopic] }),
      getLogs({ topics: [transferTopic, accountTopic] }),
      getLogs({ topics: [transferTopic, null, accountTopic] }),
      modules.length ? getLogs({ address: modules, topics: [null, accountTopic] }) : Promise.resolve([]),
      getLogs({ address: account }),
      traceFilter({ fromAddress: [account] }),
      traceFilter({ toAddress: [account] }),
    ])
    const drafts: Draft[] = []
    const seen = new Set<string>()
    const reverts = new Map<string, Hex>()
    for (const log of ops) {
      const decoded = tryDecode(entryPointEvents, log)
      if (decoded?.eventName === 'UserOperationRevertReason')
        reverts.set(decoded.args.userOpHash as Hex, decoded.args.revertReason as Hex)
    }
    for (const log of [...ops, ...sent, ...received, ...moduleLogs, ...own]) {
      const key = `${log.transactionHash}:${log.logIndex}`
      if (seen.has(key)) continue
      seen.add(key)
      const draft = fromLog(log, reverts)
      if (draft) drafts.push(draft)
    }
    const traceList = [...tracesFrom, ...tracesTo]
    const seenTraces = new Set<string>()
    traceList.forEach((trace) => {
      const key = `${trace.transactionHash}:${trace.traceAddress.join('.')}`
      if (seenTraces.has(key)) return
      seenTraces.add(key)
      const draft = fromTrace(trace, seenTraces.size - 1)
      if (draft) drafts.push(draft)
    })
    return drafts
  }

  function position(log: RawLog) {
    return {
      blockNumber: BigInt(log.blockNumber),
      order: Number(BigInt(log.transactionIndex)) * 1_000_000 + 100_000 + Number(BigInt(log.logIndex)),
      transactionHash: log.transactionHash,
    }
  }

  function fromLog(log: RawLog, reverts: Map<string, Hex>): Draft | undefined {
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

  function fromTrace(trace: RawTrace, index: number): Draft | undefined {
    const value = BigInt(trace.action.value ?? '0x0')
    if (trace.type !== 'call' || trace.error || value === 0n || !trace.action.to) return undefined
    if (trace.action.callType && trace.action.callType !== 'call') return undefined
    const out = isAddressEqual(trace.action.from, account)
    // The account's prefund to the EntryPoint is gas: its user operation's entry shows the fee.
    if (out && isAddressEqual(trace.action.to, chain.contracts.entryPoint)) return undefined
    const other = getAddress(out ? trace.action.to : trace.action.from)
    return {
      blockNumber: BigInt(trace.blockNumber),
      order: trace.transactionPosition * 1_000_000 + Math.min(index, 99_999),
      transactionHash: trace.transactionHash,
      kind: out ? 'eth-out' : 'eth-in',
      title: out ? 'Sent' : 'Received',
      detail: `${formatAmount(value, 18, 'ETH')} ${out ? 'to' : 'from'} ${shortHex(other)}`,
      counterparty: other,
      amount: { value, symbol: 'ETH', decimals: 18, direction: out ? 'out' : 'in' },
    }
  }

  async function timestamps(blocks: bigint[]): Promise<Map<bigint, number>> {
    const unique = [...new Set(blocks)]
    const found = await Promise.all(
      unique.map(
        (block) =>
          rpc.request({ method: 'eth_getBlockByNumber', params: [numberToHex(block), false] }) as Promise<{
            timestamp: Hex
          } | null>,
      ),
    )
    return new Map(unique.map((block, i) => [block, Number(BigInt(found[i]?.timestamp ?? '0x0'))]))
  }

  return {
    kind: 'node-logs',
    description: `node logs (eth_getLogs in ${range.toLocaleString('en-US')}-block ranges)`,
    async page(cursor: HistoryCursor | undefined, limit: number): Promise<HistoryPage> {
      const before = cursor === undefined ? undefined : parseCursor(cursor)
      const head = BigInt((await rpc.request({ method: 'eth_blockNumber' })) as Hex)
      let upper = before && before.block < head ? before.block : head
      const found: Draft[] = []
      let ranges = 0
      while (upper >= floor && ranges < maxRanges) {
        // Ranges aligned on multiples of `range`, so the next page reads the same range again, from the cache.
        const start = upper - (upper % range)
        const lower = start > floor ? start : floor
        const end = start + range - 1n < head ? start + range - 1n : head
        const key = `${lower}:${end}`
        let drafts = scanned.get(key)
        if (!drafts) {
          drafts = await scan(lower, end)
          scanned.set(key, drafts)
          // A few ranges are enough for paging back and forth; a moved head makes the top range a new key.
          if (scanned.size > 8) scanned.delete(scanned.keys().next().value as string)
        }
        found.push(
          ...drafts.filter(
            (d) =>
              !before ||
              d.blockNumber < before.block ||
              (d.blockNumber === before.block && d.order < before.order),
          ),
        )
        ranges++
        upper = lower - 1n
        if (found.length >= limit) break
      }
      found.sort((a, b) => compareNewestFirst(a as HistoryEntry, b as HistoryEntry))
      const taken = found.slice(0, limit)
      const times = await timestamps(taken.map((d) => d.blockNumber))
      const entries = taken.map((d) => ({
        ...d,
        id: `${chain.id}:${d.blockNumber}:${d.order}`,
        chainId: chain.id,
        after: `${d.blockNumber}:${d.order}`,
        timestamp: times.get(d.blockNumber) ?? 0,
      })) as HistoryEntry[]
      const last = taken.at(-1)
      let next: HistoryCursor | undefined
      // More in the ranges searched: continue after the last entry shown. Else, ranges left below (the page
      // filled up, or the per-page bound stopped the walk): continue under the ranges searched.
      if (found.length > limit && last) next = `${last.blockNumber}:${last.order}`
      else if (upper >= floor) next = `${upper}:${Number.MAX_SAFE_INTEGER}`
      return { entries, next, notes: traces === false ? [noTraceNote] : [], errors: [] }
    },
  }
}

/** The validator a user operation's nonce selects: the top 20 bytes of its 24-byte key (docs/interfaces.md). */
export function validatorOfNonce(nonce: bigint): Address {
  const validator = (nonce >> 96n) & ((1n << 160n) - 1n)
  return pad(numberToHex(validator), { size: 20 }) as Address
}

function parseCursor(cursor: HistoryCursor): { block: bigint; order: number } {
  const match = /^(\d+):(\d+)$/.exec(cursor)
  if (!match) throw new InvalidCursorError(`Not a node-logs history cursor: ${JSON.stringify(cursor)}.`)
  return { block: BigInt(match[1]!), order: Number(match[2]) }
}

/** A log decoded against `abi` (events with named arguments), or undefined when none of its events match. */
function tryDecode(
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

function isUnsupported(error: unknown): boolean {
  const e = error as { code?: number; cause?: { code?: number }; message?: string }
  const code = e?.code ?? e?.cause?.code
  return (
    code === -32601 ||
    code === -32004 ||
    /not (found|supported|available)|unsupported|does not exist/i.test(e?.message ?? '')
  )
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
