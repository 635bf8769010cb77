/**
 * The account's history behind one interface (docs/dashboard.md, "History"): a source answers pages of entries,
 * newest first, from an opaque cursor. Two sources: the node's logs (`nodeLogs.ts`) and the history indexer
 * (`indexer.ts`, in front of the node logs by `fallback.ts`); the dashboard names the source it shows.
 */
import { Errors } from '@sso/client/popup'
import type { Address, Hex } from 'viem'

/** What happened. */
export type HistoryKind =
  | 'user-operation'
  | 'eth-in'
  | 'eth-out'
  | 'token-in'
  | 'token-out'
  | 'session-created'
  | 'session-revoked'
  | 'sessions-revoked'
  | 'module-installed'
  | 'module-uninstalled'
  | 'passkey-added'
  | 'passkey-removed'
  | 'guardian'
  | 'recovery'

/** Which key signed a user operation: told apart by the validator in its nonce key (docs/interfaces.md). */
export type UserOpSigner = 'passkey' | 'session' | 'other'

/** One thing that happened to the account on one chain. */
export type HistoryEntry = {
  /** Unique over every chain: `<chainId>:<block>:<order>`. */
  id: string
  /** The cursor of the entries older than this one, in the source that made it. */
  after: HistoryCursor
  chainId: number
  blockNumber: bigint
  /**
   * Order inside the block: `transactionIndex * 1e6 + n`, n = the trace's index (below 100,000) for ETH moved by a
   * call, 100,000 + logIndex for a log. Newest first = (blockNumber, order) descending.
   */
  order: number
  /** Block time, seconds. */
  timestamp: number
  transactionHash: Hex
  kind: HistoryKind
  /** One line a person reads: `Sent`, `Session created`, `Passkey transaction`. */
  title: string
  /** The second line: what, with whom, why it failed. */
  detail?: string | undefined
  /** The other side: recipient, sender, module, guardian. */
  counterparty?: Address | undefined
  /** Value moved, with the unit to show it in. */
  amount?: { value: bigint; symbol: string; decimals: number; direction: 'in' | 'out' } | undefined
  /** A user operation's outcome. */
  status?: 'success' | 'reverted' | undefined
  userOp?:
    | {
        hash: Hex
        signer: UserOpSigner
        validator: Address
        /** Paid by a paymaster (its address), else by the account. */
        paymaster: Address | undefined
        /** What the gas cost, in wei. */
        gasCost: bigint
      }
    | undefined
  /** The user operation this entry happened in, when known (links an entry to the app that asked). */
  userOpHash?: Hex | undefined
  sessionId?: Hex | undefined
}

/** Where a source is in the history; opaque to callers, understood only by the source that made it. */
export type HistoryCursor = string

/** One page, newest first. */
export type HistoryPage = {
  entries: HistoryEntry[]
  /** Pass to `page` for older entries; undefined when there are none. */
  next: HistoryCursor | undefined
  /** What this source cannot see (shown under the list). */
  notes: string[]
  /** Chains that did not answer: the page holds the others' entries, a later page retries them. */
  errors: { chainId: number; message: string }[]
}

/**
 * A history source.
 *
 * @example
 * ```ts
 * const first = await source.page(undefined, 20)
 * const second = first.next ? await source.page(first.next, 20) : undefined
 * ```
 */
export interface HistorySource {
  /** `node-logs`: `eth_getLogs` / `trace_filter` on the chains' RPC; `indexer`: an indexer's API. */
  readonly kind: 'node-logs' | 'indexer'
  /**
   * What the dashboard says it shows, e.g. `node logs (eth_getLogs, 5,000-block ranges)`; a source that falls back
   * names the source of its last page.
   */
  readonly description: string
  page(cursor: HistoryCursor | undefined, limit: number): Promise<HistoryPage>
}

/** Thrown for a cursor this source did not make. */
export class InvalidCursorError extends Errors.BaseError {
  override name = 'InvalidCursorError'
}

/** Newest first: later block, then later in the block. */
export function compareNewestFirst(a: HistoryEntry, b: HistoryEntry): number {
  if (a.blockNumber !== b.blockNumber) return a.blockNumber > b.blockNumber ? -1 : 1
  return b.order - a.order
}
