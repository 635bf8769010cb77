/**
 * The indexer history source (docs/dashboard.md, "The indexer"): pages of the account's rows from the history
 * indexer's JSON API (packages/indexer), decoded by `entries.ts` like the node-logs source decodes the node's
 * logs, so both give the same entries. Plain `fetch`: nothing of Ponder is bundled here.
 */
import type { Address, Hex } from 'viem'
import { numberToHex } from 'viem'
import { createEntryDecoder, type Draft, type HistoryChain } from './entries'
import type { HistoryCursor, HistoryEntry, HistoryPage, HistorySource } from './HistorySource'
import { InvalidCursorError } from './HistorySource'
import type { NodeRpc } from './nodeLogs'

/** One row of `GET /history/<chainId>/<account>` (bigints as decimal strings). */
export type IndexerRow = {
  blockNumber: string
  position: string
  timestamp: string
  transactionHash: Hex
  transactionIndex: number
  address: Address | null
  topics: Hex[] | null
  data: Hex | null
  logIndex: number | null
  revertReason: Hex | null
  callFrom: Address | null
  callTo: Address | null
  value: string | null
  rank: number | null
}

export type IndexerSourceOptions = {
  chain: HistoryChain
  account: Address
  /** The indexer's base URL (`indexerUrl` of the chain in `/sso-config.json`). */
  url: string
  /** The chain's node: its newest block tells whether the indexer is behind. */
  rpc: NodeRpc
  /** Blocks the indexer may be behind the node before the source refuses to answer (default 3). */
  maxLag?: number | undefined
  fetch?: typeof fetch | undefined
  /** Per request (default 5,000 ms). */
  timeoutMs?: number | undefined
}

/** What the indexer does not keep, shown under its list. */
export const indexerNotes = [
  'The indexer keeps transfers of the tokens this chain lists (and ETH); other tokens are not listed.',
  'The indexer follows the account from its deployment: what was sent to its address before is not listed.',
]

/** Thrown when the indexer does not answer, answers an error, or is behind the node. */
export class IndexerUnavailableError extends Error {
  override name = 'IndexerUnavailableError'
}

/**
 * @example
 * ```ts
 * const source = createIndexerSource({ chain, account, url: chain.indexerUrl, rpc: getBatchClient(chain) })
 * const { entries, next } = await source.page(undefined, 20)
 * ```
 */
export function createIndexerSource(options: IndexerSourceOptions): HistorySource {
  const { chain, account, rpc } = options
  const base = options.url.replace(/\/+$/, '')
  const maxLag = options.maxLag ?? 3
  const fetcher = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 5_000
  const decoder = createEntryDecoder(chain, account)

  async function get<T>(path: string): Promise<T> {
    let response: Response
    try {
      response = await fetcher(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) })
    } catch (error) {
      throw new IndexerUnavailableError(`the indexer at ${host(base)} does not answer`, { cause: error })
    }
    if (!response.ok)
      throw new IndexerUnavailableError(`the indexer at ${host(base)} answered ${response.status}`)
    return (await response.json()) as T
  }

  /** Throws unless the indexer has every block the node has (up to `maxLag`). */
  async function assertCaughtUp(): Promise<void> {
    const [status, head] = await Promise.all([
      get<Record<string, { id: number; block: { number: number } }>>('/status'),
      rpc.request({ method: 'eth_blockNumber' }) as Promise<Hex>,
    ])
    const indexed = Object.values(status).find((s) => s.id === chain.id)?.block.number
    if (indexed === undefined)
      throw new IndexerUnavailableError(`the indexer at ${host(base)} does not index chain ${chain.id}`)
    const behind = Number(BigInt(head)) - indexed
    if (behind > maxLag)
      throw new IndexerUnavailableError(
        `the indexer at ${host(base)} is ${behind.toLocaleString('en-US')} blocks behind`,
      )
  }

  function draftOf(row: IndexerRow): Draft | undefined {
    const transactionIndex = numberToHex(row.transactionIndex)
    if (row.address && row.topics && row.data !== null && row.logIndex !== null) {
      const reverts = new Map<string, Hex>()
      if (row.revertReason && row.topics[1]) reverts.set(row.topics[1], row.revertReason)
      return decoder.fromLog(
        {
          address: row.address,
          topics: row.topics,
          data: row.data,
          blockNumber: numberToHex(BigInt(row.blockNumber)),
          transactionHash: row.transactionHash,
          transactionIndex,
          logIndex: numberToHex(row.logIndex),
        },
        reverts,
      )
    }
    if (row.callFrom && row.value !== null && row.rank !== null)
      return decoder.fromTrace(
        {
          action: {
            from: row.callFrom,
            ...(row.callTo ? { to: row.callTo } : {}),
            value: numberToHex(BigInt(row.value)),
            callType: 'call',
          },
          blockNumber: Number(row.blockNumber),
          transactionHash: row.transactionHash,
          transactionPosition: row.transactionIndex,
          traceAddress: [],
          type: 'call',
        },
        row.rank,
      )
    return undefined
  }

  return {
    kind: 'indexer',
    description: `indexer (${host(base)})`,
    async page(cursor: HistoryCursor | undefined, limit: number): Promise<HistoryPage> {
      if (cursor !== undefined && !/^\d+:\d+$/.test(cursor))
        throw new InvalidCursorError(`Not an indexer history cursor: ${JSON.stringify(cursor)}.`)
      await assertCaughtUp()
      const query = new URLSearchParams({ limit: String(limit) })
      if (cursor !== undefined) query.set('before', cursor)
      const body = await get<{ entries: IndexerRow[]; next: string | null }>(
        `/history/${chain.id}/${account.toLowerCase()}?${query}`,
      )
      const entries: HistoryEntry[] = []
      for (const row of body.entries) {
        const draft = draftOf(row)
        if (!draft) continue
        entries.push({
          ...draft,
          id: `${chain.id}:${draft.blockNumber}:${draft.order}`,
          chainId: chain.id,
          after: `${draft.blockNumber}:${draft.order}`,
          timestamp: Number(row.timestamp),
        } as HistoryEntry)
      }
      return { entries, next: body.next ?? undefined, notes: indexerNotes, errors: [] }
    },
  }
}

function host(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}
