/**
 * What the indexer keeps (docs/dashboard.md, "The indexer"): for every account of our AccountFactory, each log and
 * ETH-moving call the node-logs source would find, raw, at the same position. The auth server decodes the rows.
 */
import { ponder } from 'ponder:registry'
import { account, callCount, entry, revertReason } from 'ponder:schema'
import type { Address, Hex } from 'viem'
import { moduleEvents } from './abis'
import { isListedCall } from './calls'

type Context = Parameters<Parameters<typeof ponder.on>[1]>[0]['context']
type LogEvent = {
  args: Record<string, unknown>
  log: { address: Address; topics: readonly Hex[]; data: Hex; logIndex: number }
  block: { number: bigint; timestamp: bigint }
  transaction: { hash: Hex; transactionIndex: number }
}
type TransferEvent = {
  trace: {
    traceIndex: number
    type: string
    from: Address
    to: Address | null
    value: bigint | null
    error?: string | undefined
  }
  block: { number: bigint; timestamp: bigint }
  transaction: { hash: Hex; transactionIndex: number }
}

// The chains and contracts come from a file read at start, so Ponder cannot type the event names: one signature.
const on = <E extends LogEvent | TransferEvent>(
  name: string,
  fn: (args: { event: E; context: Context }) => Promise<void>,
) => ponder.on(name as never, fn as never)

const lower = (address: string) => address.toLowerCase() as Address

async function isAccount(context: Context, address: Address): Promise<boolean> {
  return (await context.db.find(account, { chainId: context.chain.id, address: lower(address) })) !== null
}

/**
 * Where an entry stands in `owner`'s history: its transaction, and `offset` within it (calls by rank first, then
 * logs from 100,000 on), the order the node-logs source gives.
 */
function entryAt(
  context: Context,
  owner: Address,
  { block, transaction }: Pick<LogEvent, 'block' | 'transaction'>,
  offset: bigint,
) {
  return {
    chainId: context.chain.id,
    account: lower(owner),
    blockNumber: block.number,
    position: BigInt(transaction.transactionIndex) * 1_000_000n + offset,
    timestamp: block.timestamp,
    transactionHash: transaction.hash,
    transactionIndex: transaction.transactionIndex,
  }
}

/** Stores a log of `owner`'s history at the node-logs source's position for it. */
async function storeLog(context: Context, owner: Address, event: LogEvent, revert?: Hex) {
  const { log } = event
  await context.db
    .insert(entry)
    .values({
      ...entryAt(context, owner, event, 100_000n + BigInt(log.logIndex)),
      address: lower(log.address),
      topics: [...log.topics],
      data: log.data,
      logIndex: log.logIndex,
      revertReason: revert,
    })
    .onConflictDoNothing()
}

on<LogEvent>('AccountFactory:AccountCreated', async ({ event, context }) => {
  await context.db
    .insert(account)
    .values({
      chainId: context.chain.id,
      address: lower(event.args.account as Address),
      blockNumber: event.block.number,
    })
    .onConflictDoNothing()
})

on<LogEvent>('EntryPoint:UserOperationRevertReason', async ({ event, context }) => {
  if (!(await isAccount(context, event.args.sender as Address))) return
  await context.db
    .insert(revertReason)
    .values({
      chainId: context.chain.id,
      userOpHash: event.args.userOpHash as Hex,
      reason: event.args.revertReason as Hex,
    })
    .onConflictDoNothing()
})

on<LogEvent>('EntryPoint:UserOperationEvent', async ({ event, context }) => {
  const sender = event.args.sender as Address
  if (!(await isAccount(context, sender))) return
  const key = { chainId: context.chain.id, userOpHash: event.args.userOpHash as Hex }
  const revert = await context.db.find(revertReason, key)
  if (revert) await context.db.delete(revertReason, key)
  await storeLog(context, sender, event, revert?.reason)
})

// The account's own events: every address of SsoAccount is an account of the factory.
on<LogEvent>('SsoAccount:ModuleInstalled', async ({ event, context }) =>
  storeLog(context, event.log.address, event),
)
on<LogEvent>('SsoAccount:ModuleUninstalled', async ({ event, context }) =>
  storeLog(context, event.log.address, event),
)

// Every event of our modules names the account first (topic 1); the account's creation emits some of them
// (its first passkey) before the factory's `AccountCreated`, so they are kept without asking `account`.
for (const { name } of moduleEvents) {
  on<LogEvent>(`Modules:${name}`, async ({ event, context }) => {
    const topic = event.log.topics[1]
    if (topic) await storeLog(context, `0x${topic.slice(26)}` as Address, event)
  })
}

on<LogEvent>('Tokens:Transfer', async ({ event, context }) => {
  const { from, to } = event.args as { from: Address; to: Address }
  if (await isAccount(context, from)) await storeLog(context, from, event)
  if (lower(to) !== lower(from) && (await isAccount(context, to))) await storeLog(context, to, event)
})

/** Stores a call of `owner`'s history, ranked among the listed calls of its transaction (call order). */
async function storeCall(context: Context, owner: Address, event: TransferEvent) {
  const { trace, transaction } = event
  const call = {
    // Ponder names the call kind (`CALL`, `DELEGATECALL`, `CREATE`, …): the parity traces' plain `call`.
    type: trace.type === 'CALL' ? 'call' : trace.type.toLowerCase(),
    error: trace.error,
    from: trace.from,
    to: trace.to ?? undefined,
    value: trace.value ?? 0n,
  }
  if (!isListedCall(call, owner, entryPointOf(context))) return
  const key = { chainId: context.chain.id, account: lower(owner), transactionHash: transaction.hash }
  const seen = await context.db.find(callCount, key)
  // A call from the account to itself arrives as `from` and as `to`: one entry.
  if (seen && seen.lastTraceIndex >= trace.traceIndex) return
  const rank = seen?.count ?? 0
  await context.db
    .insert(callCount)
    .values({ ...key, count: rank + 1, lastTraceIndex: trace.traceIndex })
    .onConflictDoUpdate({ count: rank + 1, lastTraceIndex: trace.traceIndex })
  await context.db
    .insert(entry)
    .values({
      ...entryAt(context, owner, event, BigInt(Math.min(rank, 99_999))),
      callFrom: lower(trace.from),
      callTo: trace.to ? lower(trace.to) : null,
      value: trace.value ?? 0n,
      rank,
    })
    .onConflictDoNothing()
}

function entryPointOf(context: Context): Address {
  const address = (context.contracts.EntryPoint as { address?: unknown }).address
  return (Array.isArray(address) ? address[0] : address) as Address
}

on<TransferEvent>('Accounts:transfer:from', async ({ event, context }) =>
  storeCall(context, event.trace.from, event),
)
on<TransferEvent>('Accounts:transfer:to', async ({ event, context }) =>
  storeCall(context, event.trace.to as Address, event),
)
