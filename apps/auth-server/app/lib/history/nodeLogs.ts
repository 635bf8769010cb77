/**
 * The node-logs history source (docs/dashboard.md, "History"): the account's events read with `eth_getLogs` and,
 * where the node offers it, the ETH its calls moved with `trace_filter`, in bounded block ranges walked from the
 * newest block back to `fromBlock`. Right for the devnet and short ranges; an indexer serves long histories.
 *
 * Per range, one JSON-RPC batch: EntryPoint `UserOperationEvent` / `UserOperationRevertReason` of the account,
 * ERC-20 `Transfer` from and to it, the SessionKeyValidator's, WebAuthnValidator's and GuardianExecutor's events
 * naming it, the account's own `ModuleInstalled` / `ModuleUninstalled`, and two `trace_filter` calls.
 */
import { type Address, encodeEventTopics, type Hex, numberToHex, pad } from 'viem'
import {
  createEntryDecoder,
  type Draft,
  entryPointEvents,
  erc20Transfer,
  type HistoryChain,
  type RawLog,
  type RawTrace,
  tryDecode,
} from './entries'
import {
  compareNewestFirst,
  type HistoryCursor,
  type HistoryEntry,
  type HistoryPage,
  type HistorySource,
  InvalidCursorError,
} from './HistorySource'

export { type HistoryChain, validatorOfNonce } from './entries'

/** The JSON-RPC the source needs (a viem client's `request`; tests pass a fake). */
export type NodeRpc = { request(args: { method: string; params?: unknown }): Promise<unknown> }

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
  const decoder = createEntryDecoder(chain, account)

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
      const draft = decoder.fromLog(log, reverts)
      if (draft) drafts.push(draft)
    }
    drafts.push(...decoder.fromTraces([...tracesFrom, ...tracesTo]))
    return drafts
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

function parseCursor(cursor: HistoryCursor): { block: bigint; order: number } {
  const match = /^(\d+):(\d+)$/.exec(cursor)
  if (!match) throw new InvalidCursorError(`Not a node-logs history cursor: ${JSON.stringify(cursor)}.`)
  return { block: BigInt(match[1]!), order: Number(match[2]) }
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
