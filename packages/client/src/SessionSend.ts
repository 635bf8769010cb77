/**
 * Sending with a session key (docs/architecture.md, section 5), as fast as the chain allows and safe under load:
 * - one round of reads, all at once: the session's on-chain state, the latest block, the nonce and the fees (the
 *   bundler's price, kept for {@link feesMaxAgeMs} and fetched again after a refusal); the account is known to be
 *   deployed (a session is created by one of its userOps), so its code is never read;
 * - the gas of a call shape (targets, selectors, calldata lengths, whether ETH moves) is estimated once per
 *   session and reused with headroom for the call; a session's transfer policies are estimated right after the
 *   grant. A bundler that refuses a reused estimate gets a fresh one, once;
 * - sends fired at once each take their own nonce key ({@link createNonceLanes}), at most `maxParallel` per
 *   account, the rest wait in line: none replaces another;
 * - the receipt is read from the chain's `UserOperationEvent` and polled tightly (internal/userOpWatcher.ts);
 * - in the first moments of an allowance period, before the chain has a block in it, the send waits for one (the
 *   bundler simulates at the latest block, which would be before the op's validity window);
 * - a bundler that refuses the userOp's validity window (ERC-7769 -32503: an allowance period narrows it to the
 *   period, and bundlers refuse a window that started a moment ago or ends in the next seconds) gets it again in
 *   the next period, after a wait of at most {@link timeRangeWaitMs} ({@link timeRangeDelayMs});
 * - a bundler or chain RPC that does not answer ends the send with {@link ChainDisconnectedError} (4901), a
 *   bundler that dropped the userOp with {@link TransactionRejectedError} (-32003); nothing is resent on its own.
 */
import { type Address, type Hex, http, type PublicClient } from 'viem'
import {
  type BundlerClient,
  createPaymasterClient,
  entryPoint08Abi,
  entryPoint08Address,
  type PaymasterClient,
} from 'viem/account-abstraction'
import { call, getBlock } from 'viem/actions'
import { ChainDisconnectedError, TransactionRejectedError } from './Errors.js'
import { encodeCalls, nonceKey } from './Execution.js'
import { allowancePeriods } from './internal/nearlyUsed.js'
import { createNonceLanes } from './internal/nonceLanes.js'
import { isUnreachable, refused } from './internal/unreachable.js'
import type { UserOpWatcher } from './internal/userOpWatcher.js'
import { type SessionAccount, toSessionAccount } from './SessionAccount.js'
import {
  checkSessionCalls,
  type SessionCall,
  type SessionPolicyViolation,
  type SessionState,
} from './SessionPolicy.js'
import type { SessionSigner } from './SessionSigner.js'
import type { SessionSpec } from './SessionSpec.js'
import { sessionId } from './SessionSpecEncoding.js'
import { estimateUserOperationFees } from './UserOperation.js'

/** What the sender needs to know of one session (a `SessionRecord`). */
export type SessionSendRecord = { account: Address; chainId: number; spec: SessionSpec }

type Gas = {
  callGasLimit: bigint
  verificationGasLimit: bigint
  preVerificationGas: bigint
  paymasterVerificationGasLimit?: bigint | undefined
  paymasterPostOpGasLimit?: bigint | undefined
}

// Added to a reused call gas limit: the same call shape may cost more with other arguments or state (a fresh
// storage slot: ~20k). Below the EntryPoint's 40k unused-gas penalty threshold.
const callGasHeadroom = 25_000n
const receiptTimeoutMs = 60_000
/** How long the bundler's gas price is reused: about a block on most chains, so a send does not wait for it. */
const feesMaxAgeMs = 3_000
/** ERC-7769: the bundler refused the userOp's validity window (not valid yet, or it ends too soon). */
const outOfTimeRangeCode = -32503
/** The longest a send waits for a validity window the bundler takes (a period ending: ~30 s + the margin). */
export const timeRangeWaitMs = 45_000
const timeRangeAttempts = 5
/**
 * Seconds the bundler may want a window to have run (safe-mode Alto refuses `validAfter > now - 5`), plus one for
 * the block to come.
 */
const windowStartMargin = 6
/** A session ending within this (ms) is past every bundler's expiry margin (safe-mode Alto: 30 s). */
const expiryMarginMs = 35_000
/** How long a send waits for the chain's first block in a new allowance period, and how often it looks. */
const blockWaitMs = 30_000
const blockPollMs = 250

/**
 * What the sends of one request share: the nonce the first one used (a later one with another nonce is never
 * sent), the time the last one claimed (seconds, the chain's clock), and when waiting ends (`Date.now()`).
 */
type Attempt = { deadline: number; nonce?: bigint; now?: number }

/** An ERC-7677 paymaster service for one send (EIP-5792 `paymasterService` capability): `url` and its `context`. */
export type PaymasterService = { url: string; context?: Record<string, unknown> | undefined }

export type SessionSender = {
  send(
    record: SessionSendRecord,
    calls: readonly SessionCall[],
    wait: boolean,
    service?: PaymasterService | undefined,
  ): Promise<{ userOpHash: Hex; transactionHash?: Hex } | { violation: SessionPolicyViolation }>
  /** Estimates the gas of the session's transfer policies in the background (after a grant). */
  warm(record: SessionSendRecord): void
}

export function createSessionSender(deps: {
  clients: (chainId: number) => { client: PublicClient; bundler: BundlerClient; watcher: UserOpWatcher }
  urls: (chainId: number) => { rpcUrl: string; bundlerUrl: string }
  readState: (record: SessionSendRecord) => Promise<SessionState>
  signer: (record: SessionSendRecord) => Promise<SessionSigner>
  validator: (chainId: number) => Address
  banned: (chainId: number) => Address[]
  paymaster: () => PaymasterClient | undefined
  /** Called once a sent userOp is included (limits changed). */
  onIncluded: (record: SessionSendRecord) => void
  maxParallel: number
  /** How the sender waits (tests make it instant). */
  sleep?: ((ms: number) => Promise<void>) | undefined
}): SessionSender {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const lanes = createNonceLanes(deps.maxParallel)
  const gasCache = new Map<string, Promise<Gas>>()
  const feesCache = new Map<number, { at: number; fees: ReturnType<typeof estimateUserOperationFees> }>()

  /** The bundler's gas price for `chainId`, reused while younger than {@link feesMaxAgeMs}. */
  const feesOf = (chainId: number, bundler: BundlerClient) => {
    const cached = feesCache.get(chainId)
    if (cached && Date.now() - cached.at < feesMaxAgeMs) return cached.fees
    const fees = estimateUserOperationFees({ bundlerClient: bundler })
    const entry = { at: Date.now(), fees }
    feesCache.set(chainId, entry)
    fees.catch(() => {
      if (feesCache.get(chainId) === entry) feesCache.delete(chainId)
    })
    return fees
  }

  const gasKey = (record: SessionSendRecord, calls: readonly SessionCall[], paymaster: string) =>
    [
      record.chainId,
      record.account.toLowerCase(),
      sessionId(record.spec),
      paymaster,
      ...calls.map(
        (c) =>
          `${c.to.toLowerCase()}:${(c.data ?? '0x').slice(0, 10)}:${(c.data ?? '0x').length}:${(c.value ?? 0n) > 0n ? 'v' : ''}`,
      ),
    ].join('|')

  /** The endpoint that did not answer when `error` is a transport failure (else undefined). */
  const silentEndpoint = (error: unknown, chainId: number): string | undefined => {
    if (!isUnreachable(error)) return undefined
    const { rpcUrl, bundlerUrl } = deps.urls(chainId)
    const url = findUrl(error)
    if (url?.startsWith(bundlerUrl)) return `The bundler (${bundlerUrl})`
    if (url?.startsWith(rpcUrl)) return `The chain's RPC (${rpcUrl})`
    return 'The chain or the bundler'
  }
  /** A typed fault for a request that did not reach its endpoint before anything was submitted. */
  const fault = (error: unknown, chainId: number, what: string): Error | undefined => {
    const endpoint = silentEndpoint(error, chainId)
    if (endpoint === undefined) return undefined
    return new ChainDisconnectedError(
      `${endpoint} did not answer ${what}: nothing was sent. Try again once it is back.`,
      { cause: error },
    )
  }

  async function prepare(record: SessionSendRecord, calls: readonly SessionCall[], lane: number) {
    const { client, bundler } = deps.clients(record.chainId)
    const validator = deps.validator(record.chainId)
    const [state, block, nonce, fees, signer, runs] = await Promise.all([
      deps.readState(record),
      getBlock(client, { blockTag: 'latest' }),
      client.readContract({
        address: entryPoint08Address,
        abi: entryPoint08Abi,
        functionName: 'getNonce',
        args: [record.account, nonceKey(validator, BigInt(lane))],
      }),
      feesOf(record.chainId, bundler),
      // A missing key matters only for a session that is still active: the state decides first.
      deps.signer(record).then(
        (loaded) => ({ loaded }),
        (error: unknown) => ({ error }),
      ),
      // The calls as the EntryPoint will run them: a reused estimate is only for calls that don't revert (one
      // that does gets a fresh estimate, which names the revert, instead of landing and paying for it).
      call(client, { account: entryPoint08Address, to: record.account, data: encodeCalls(calls) }).then(
        () => true,
        (error: unknown) => {
          if (isUnreachable(error)) throw error
          return false
        },
      ),
    ])
    // The time the signature claims selects the allowance periods: the next block's time is the best guess, and
    // an idle chain (anvil) mines it at the wall clock, later than its latest block.
    const now = Math.max(Number(block.timestamp), Math.floor(Date.now() / 1000))
    const account = async (): Promise<SessionAccount> => {
      if ('error' in signer) throw signer.error
      return toSessionAccount({
        client,
        address: record.account,
        spec: record.spec,
        signer: signer.loaded,
        validator,
        timestamp: async () => now,
      })
    }
    return { state, block, nonce, fees, now, account, runs }
  }

  /**
   * Who pays one send: the send's own paymaster service (the dapp named it), else the manager's paymaster, else
   * the account. `key` tells gas estimates apart (a paymaster's verification gas is in them).
   */
  function payerOf(service: PaymasterService | undefined) {
    if (service)
      return {
        key: `pm:${service.url}`,
        fields: {
          paymaster: createPaymasterClient({ transport: http(service.url) }),
          ...(service.context ? { paymasterContext: service.context } : {}),
        },
      }
    const paymaster = deps.paymaster()
    return { key: paymaster ? 'pm' : '', fields: paymaster ? { paymaster } : {} }
  }

  async function estimate(
    record: SessionSendRecord,
    calls: readonly SessionCall[],
    account: SessionAccount,
    fields: { nonce: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
    payer: ReturnType<typeof payerOf>,
  ): Promise<Gas> {
    const { bundler } = deps.clients(record.chainId)
    const op = (await bundler.prepareUserOperation({
      account,
      calls: calls.map((c) => ({ to: c.to, data: c.data ?? '0x', value: c.value ?? 0n })),
      ...fields,
      ...payer.fields,
    } as Parameters<typeof bundler.prepareUserOperation>[0])) as unknown as Gas
    return {
      callGasLimit: op.callGasLimit,
      verificationGasLimit: op.verificationGasLimit,
      preVerificationGas: op.preVerificationGas,
      paymasterVerificationGasLimit: op.paymasterVerificationGasLimit,
      paymasterPostOpGasLimit: op.paymasterPostOpGasLimit,
    }
  }

  /**
   * One send on `lane`. `attempt` is shared by the sends of one request ({@link sendInTimeRange}): the nonce and
   * the time the first one claimed, and when waiting must end.
   */
  async function sendOnLane(
    record: SessionSendRecord,
    calls: readonly SessionCall[],
    lane: number,
    service: PaymasterService | undefined,
    attempt: Attempt,
  ): Promise<{ userOpHash: Hex; fromBlock: bigint } | { violation: SessionPolicyViolation }> {
    const { bundler } = deps.clients(record.chainId)
    const payer = payerOf(service)
    const paymaster = payer.key !== ''
    const key = gasKey(record, calls, payer.key)
    let reads: Awaited<ReturnType<typeof prepare>>
    try {
      reads = await prepare(record, calls, lane)
      // An allowance period began after the latest block: the bundler simulates at that block, before the op's
      // validity window (AA22), and the state read there is the old period's. Read again once a block is in it.
      const start = periodStartOf(record.spec, reads.now)
      if (reads.block.timestamp < BigInt(start)) {
        await blockAtOrAfter(record.chainId, start, attempt.deadline)
        reads = await prepare(record, calls, lane)
      }
    } catch (error) {
      throw fault(error, record.chainId, 'while the session transaction was prepared') ?? error
    }
    const { state, block, nonce, fees, now, runs } = reads
    // Sent again after a refusal: a nonce that moved means an earlier send was taken after all (a bundler that
    // answered an error yet kept it). Never a second execution: stop here.
    if (attempt.nonce !== undefined && nonce !== attempt.nonce)
      throw new TransactionRejectedError(
        `The account's nonce moved while the session transaction waited to be sent again: the bundler that refused it may have taken it after all. Nothing more was sent; read the session state before sending it again.`,
      )
    attempt.nonce = nonce
    attempt.now = now
    const violation = checkSessionCalls(record.spec, calls, {
      account: record.account,
      state,
      now,
      bannedTargets: deps.banned(record.chainId),
    })
    if (violation) return { violation }
    const account = await reads.account()

    let fields = { nonce, ...fees }
    const build = async (fresh: boolean) => {
      let gasPromise = fresh || !runs ? undefined : gasCache.get(key)
      const reused = gasPromise !== undefined
      if (!gasPromise) {
        gasPromise = estimate(record, calls, account, fields, payer)
        gasCache.set(key, gasPromise)
        gasPromise.catch(() => gasCache.delete(key))
      }
      let gas: Gas
      try {
        gas = await gasPromise
      } catch (error) {
        if (reused) return build(true)
        throw (
          fault(error, record.chainId, 'while the session transaction was estimated') ??
          new TransactionRejectedError('The bundler refused the session transaction.', { cause: error })
        )
      }
      const limits = reused ? { ...gas, callGasLimit: gas.callGasLimit + callGasHeadroom } : gas
      const prepared = await bundler.prepareUserOperation({
        account,
        calls: calls.map((c) => ({ to: c.to, data: c.data ?? '0x', value: c.value ?? 0n })),
        ...fields,
        ...definedOf(limits),
        ...payer.fields,
      } as Parameters<typeof bundler.prepareUserOperation>[0])
      return { prepared, reused }
    }

    for (let attempt = 0; ; attempt++) {
      const { prepared, reused } = await build(attempt > 0)
      if (!paymaster) {
        const op = prepared as unknown as Gas & { maxFeePerGas: bigint }
        const fee = op.maxFeePerGas * (op.verificationGasLimit + op.callGasLimit + op.preVerificationGas)
        const feeViolation = checkSessionCalls(record.spec, [], { account: record.account, state, now, fee })
        if (feeViolation) return { violation: feeViolation }
      }
      const signature = await account.signUserOperation(
        prepared as Parameters<typeof account.signUserOperation>[0],
      )
      try {
        const userOpHash = await bundler.sendUserOperation({
          ...(prepared as object),
          signature,
        } as Parameters<typeof bundler.sendUserOperation>[0])
        return { userOpHash, fromBlock: block.number ?? 0n }
      } catch (error) {
        // Unreachable: whether it took the userOp is unknown, so it is never sent again from here.
        const endpoint = silentEndpoint(error, record.chainId)
        // A refused connection never reached it: nothing was sent.
        if (endpoint !== undefined && refused(error))
          throw new ChainDisconnectedError(
            `${endpoint} did not answer when the session transaction was submitted: nothing was sent. Try again once it is back.`,
            { cause: error },
          )
        if (endpoint !== undefined)
          throw new ChainDisconnectedError(
            `${endpoint} did not answer when the session transaction was submitted: it may or may not have taken it. Read the session state or the nonce before sending it again.`,
            { cause: error },
          )
        // Refused with a reused estimate or price: once more with fresh ones (a refused userOp was not taken).
        // (Not for a refused validity window: the price is not why, and the next period is waited for above.)
        if (
          attempt === 0 &&
          !hasRpcCode(error, outOfTimeRangeCode) &&
          (reused || feesCache.has(record.chainId))
        ) {
          gasCache.delete(key)
          feesCache.delete(record.chainId)
          try {
            fields = { nonce, ...(await feesOf(record.chainId, bundler)) }
          } catch (error) {
            throw fault(error, record.chainId, 'while the session transaction was priced') ?? error
          }
          continue
        }
        throw new TransactionRejectedError('The bundler refused the session transaction.', { cause: error })
      }
    }
  }

  /**
   * Waits for the chain's latest block to be at `timestamp` or later: at most {@link blockWaitMs}, and not past
   * `until` (a `Date.now()`).
   */
  async function blockAtOrAfter(chainId: number, timestamp: number, until: number): Promise<void> {
    const { client } = deps.clients(chainId)
    const deadline = Math.min(Date.now() + blockWaitMs, until)
    for (let polls = 1; ; polls++) {
      await sleep(blockPollMs)
      const block = await getBlock(client, { blockTag: 'latest' })
      if (block.timestamp >= BigInt(timestamp)) return
      if (Date.now() > deadline || polls >= blockWaitMs / blockPollMs)
        throw new TransactionRejectedError(
          `The chain has made no block since an allowance period of the session began at ${new Date(timestamp * 1000).toISOString()} (latest block at ${new Date(Number(block.timestamp) * 1000).toISOString()}): a session transaction in that period can't be checked before one. Nothing was sent.`,
        )
    }
  }

  /**
   * {@link sendOnLane}, again while the bundler refuses the validity window and the wait for one it takes fits in
   * {@link timeRangeWaitMs}: each attempt reads the chain again and claims the time it is sent at.
   */
  async function sendInTimeRange(
    record: SessionSendRecord,
    calls: readonly SessionCall[],
    lane: number,
    service: PaymasterService | undefined,
  ): ReturnType<typeof sendOnLane> {
    const attempt: Attempt = { deadline: Date.now() + timeRangeWaitMs }
    for (let count = 1; ; count++) {
      const sentAt = Date.now()
      try {
        return await sendOnLane(record, calls, lane, service, attempt)
      } catch (error) {
        if (!hasRpcCode(error, outOfTimeRangeCode) || attempt.now === undefined) throw error
        const reason = rpcMessageOf(error) ?? 'out of its time range'
        // The time the op claimed, now: the chain's clock (ahead of the wall clock after time travel) decides.
        const nowMs = attempt.now * 1000 + (Date.now() - sentAt)
        // No later period helps a session that ends before the bundler's margin.
        if (record.spec.expiresAt * 1000 - nowMs <= expiryMarginMs)
          throw new TransactionRejectedError(
            `The session expires at ${new Date(record.spec.expiresAt * 1000).toISOString()}, too soon for the bundler to take a transaction (${reason}). Nothing was sent.`,
            { cause: error },
          )
        const delay = timeRangeDelayMs(record.spec, nowMs)
        if (count >= timeRangeAttempts || Date.now() + delay > attempt.deadline)
          throw new TransactionRejectedError(
            `The bundler refused the session transaction's validity window (${reason}) and did not take it within ${timeRangeWaitMs / 1000} s. Nothing was sent.`,
            { cause: error },
          )
        await sleep(delay)
      }
    }
  }

  return {
    async send(record, calls, wait, service) {
      const { watcher } = deps.clients(record.chainId)
      const { lane, release } = await lanes.acquire(`${record.chainId}:${record.account.toLowerCase()}`)
      let sent: Awaited<ReturnType<typeof sendOnLane>>
      try {
        sent = await sendInTimeRange(record, calls, lane, service)
      } catch (error) {
        release()
        throw error
      }
      if ('violation' in sent) {
        release()
        return sent
      }
      const { userOpHash } = sent
      // The lane stays taken until the userOp is included (or known lost): its next nonce is not free before.
      const included = watcher.wait(userOpHash, sent.fromBlock, receiptTimeoutMs).finally(release)
      void included.then(
        () => deps.onIncluded(record),
        () => {},
      )
      if (!wait) return { userOpHash }
      const inclusion = await included
      if (!inclusion.success)
        throw new TransactionRejectedError(`The session transaction ${userOpHash} reverted on chain.`)
      return { userOpHash, transactionHash: inclusion.transactionHash }
    },

    warm(record) {
      const calls = record.spec.transferPolicies.map((p) => ({
        to: p.target,
        value: p.maxValuePerUse > 0n ? 1n : 0n,
      }))
      for (const call of calls) {
        if ((call.value ?? 0n) === 0n) continue
        const payer = payerOf(undefined)
        const key = gasKey(record, [call], payer.key)
        if (gasCache.has(key)) continue
        const gas = prepare(record, [call], 0).then(async ({ account, nonce, fees }) =>
          estimate(record, [call], await account(), { nonce, ...fees }, payer),
        )
        gasCache.set(key, gas)
        gas.catch(() => gasCache.delete(key))
      }
    },
  }
}

/**
 * How long to wait before a session userOp the bundler refused as out of its time range is sent again (at
 * `nowMs`): when a period of one of the spec's allowances ends within a minute, until the next one has run
 * {@link windowStartMargin} seconds (its window then starts far enough back and ends an hour, a day… ahead);
 * otherwise (the window started a moment ago, or the clocks disagree) two seconds.
 */
export function timeRangeDelayMs(spec: SessionSpec, nowMs: number): number {
  const now = Math.floor(nowMs / 1000)
  let delay = 2_000
  for (const period of periodsOf(spec)) {
    const next = (Math.floor(now / period) + 1) * period
    const from = nowMs - (next - period) * 1000
    if (next - now <= 60) delay = Math.max(delay, (next + windowStartMargin) * 1000 - nowMs)
    else if (from < windowStartMargin * 1000) delay = Math.max(delay, windowStartMargin * 1000 - from)
  }
  return delay
}

/**
 * The start of the latest allowance period of the spec at `now` (seconds): a session userOp claiming `now` is
 * valid from then at the earliest (docs/interfaces.md, session validity window), 0 without allowances. Every
 * allowance of the spec counts, used by the op or not: at worst the send waits for one block it did not need.
 */
export function periodStartOf(spec: SessionSpec, now: number): number {
  let start = 0
  for (const period of periodsOf(spec)) start = Math.max(start, Math.floor(now / period) * period)
  return start
}

/** The spec's allowance periods (seconds), as the limit event reads them. */
const periodsOf = (spec: SessionSpec) => allowancePeriods(spec).filter((period) => period > 0)

/** Whether a JSON-RPC error with `code` is in `error`'s cause chain. */
function hasRpcCode(error: unknown, code: number): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.code === code) return true
    e = e.cause as typeof e
  }
  return false
}

/** The message the endpoint answered with (the deepest `details` in the cause chain), if any. */
function rpcMessageOf(error: unknown): string | undefined {
  let found: string | undefined
  for (
    let e = error as { details?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 8;
    depth++
  ) {
    if (typeof e.details === 'string' && e.details !== '') found = e.details
    e = e.cause as typeof e
  }
  return found
}

function definedOf(gas: Gas): Partial<Gas> {
  return Object.fromEntries(Object.entries(gas).filter(([, value]) => value !== undefined)) as Partial<Gas>
}

function findUrl(error: unknown): string | undefined {
  for (let e = error as { url?: string; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (typeof e.url === 'string') return e.url
    e = e.cause as typeof e
  }
  return undefined
}
