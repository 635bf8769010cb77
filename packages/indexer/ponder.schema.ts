/**
 * The indexer's tables (docs/dashboard.md, "The indexer"): the raw data of every account's history, one row per
 * log or ETH-moving call, keyed like the node-logs source's entries (chain, account, block, position), so the
 * auth server decodes them with the same code into the same entries.
 */
import { index, onchainTable, primaryKey } from 'ponder'

/** Accounts made by our AccountFactory (its `AccountCreated`). */
export const account = onchainTable(
  'account',
  (t) => ({
    chainId: t.integer().notNull(),
    address: t.hex().notNull(),
    blockNumber: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.address] }) }),
)

/** One log or call of one account's history. */
export const entry = onchainTable(
  'entry',
  (t) => ({
    chainId: t.integer().notNull(),
    account: t.hex().notNull(),
    blockNumber: t.bigint().notNull(),
    /** `transactionIndex * 1e6 + rank` for a call, `transactionIndex * 1e6 + 100,000 + logIndex` for a log. */
    position: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    transactionIndex: t.integer().notNull(),
    /** A log: its emitter, topics and data. */
    address: t.hex(),
    topics: t.hex().array(),
    data: t.hex(),
    logIndex: t.integer(),
    /** A user operation that reverted: its `UserOperationRevertReason`. */
    revertReason: t.hex(),
    /** A call: who sent how much to whom. */
    callFrom: t.hex(),
    callTo: t.hex(),
    value: t.bigint(),
    /** The call's place among the account's listed calls of its transaction. */
    rank: t.integer(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.chainId, table.account, table.blockNumber, table.position] }),
    newestFirst: index().on(table.chainId, table.account, table.blockNumber, table.position),
  }),
)

/** `UserOperationRevertReason` until its `UserOperationEvent` (same transaction) takes it. */
export const revertReason = onchainTable(
  'revert_reason',
  (t) => ({ chainId: t.integer().notNull(), userOpHash: t.hex().notNull(), reason: t.hex().notNull() }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.userOpHash] }) }),
)

/** How many calls of an account one transaction listed so far, and the last one's trace index. */
export const callCount = onchainTable(
  'call_count',
  (t) => ({
    chainId: t.integer().notNull(),
    account: t.hex().notNull(),
    transactionHash: t.hex().notNull(),
    count: t.integer().notNull(),
    lastTraceIndex: t.integer().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.account, table.transactionHash] }) }),
)
