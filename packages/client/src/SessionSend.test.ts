import { createPublicClient, custom, type Hex, type PublicClient, parseEther, RpcRequestError } from 'viem'
import { createBundlerClient } from 'viem/account-abstraction'
import { foundry } from 'viem/chains'
import { describe, expect, test } from 'vitest'
import { TransactionRejectedError } from './Errors.js'
import { rejectionOf } from './internal/expectError.js'
import {
  createSessionSender,
  periodStartOf,
  type SessionSendRecord,
  timeRangeDelayMs,
} from './SessionSend.js'
import { createMemoryKeyStore, createSecp256k1SessionSigner } from './SessionSigner.js'
import { allowance, lifetime, type SessionSpec, transferPolicy, type UsageLimit } from './SessionSpec.js'

const account = '0x1111111111111111111111111111111111111111'
const friend = '0x2222222222222222222222222222222222222222'
const validator = '0x3333333333333333333333333333333333333333'
const hex = (value: bigint) => `0x${value.toString(16)}` as Hex

/**
 * A chain and a bundler that answer what a session send asks, counting the bundler's gas-price requests; the
 * bundler refuses operations priced below `minFee` (as public bundlers refuse a price below the current one).
 */
function fakeStack() {
  const calls = { gasPrice: 0, sent: [] as { maxFeePerGas: bigint }[], refusedWindows: 0, blocks: 0 }
  // Timestamps of the next latest blocks the chain answers (then the wall clock's).
  const blockTimes: number[] = []
  let stalled: number | undefined
  let nonce = 0n
  let price = 1_000_000_000n
  let minFee = 0n
  let windowRefusals = 0
  let takesRefused = false
  const chain = custom({
    async request({ method }: { method: string }) {
      if (method === 'eth_chainId') return hex(BigInt(foundry.id))
      // The EntryPoint's getNonce (and the execution check, which only needs an answer).
      if (method === 'eth_call') return `0x${nonce.toString(16).padStart(64, '0')}`
      if (method === 'eth_getBlockByNumber') {
        calls.blocks++
        const timestamp = blockTimes.shift() ?? stalled ?? Math.floor(Date.now() / 1000)
        return {
          number: '0x10',
          hash: `0x${'ab'.repeat(32)}`,
          timestamp: hex(BigInt(timestamp)),
          baseFeePerGas: '0x1',
          transactions: [],
        }
      }
      throw new Error(`unexpected chain request ${method}`)
    },
  })
  const bundlerTransport = custom({
    async request({ method, params }: { method: string; params: unknown[] }) {
      if (method === 'eth_chainId') return hex(BigInt(foundry.id))
      if (method === 'pimlico_getUserOperationGasPrice') {
        calls.gasPrice++
        const fees = { maxFeePerGas: hex(price), maxPriorityFeePerGas: hex(price / 2n) }
        return { slow: fees, standard: fees, fast: fees }
      }
      if (method === 'eth_estimateUserOperationGas')
        return { callGasLimit: '0x5000', verificationGasLimit: '0x20000', preVerificationGas: '0xc000' }
      if (method === 'eth_sendUserOperation') {
        const op = params[0] as { maxFeePerGas: Hex }
        if (windowRefusals > 0) {
          windowRefusals--
          calls.refusedWindows++
          if (takesRefused) nonce++
          // What Alto answers over HTTP (ERC-7769 -32503) for a window that ends within its margin.
          throw new RpcRequestError({
            body: { method },
            url: 'http://bundler.test',
            error: { code: -32503, message: 'UserOperation expires too soon, validUntil=1, now=2' },
          })
        }
        if (BigInt(op.maxFeePerGas) < minFee)
          throw new Error('maxFeePerGas must be at least the current price')
        calls.sent.push({ maxFeePerGas: BigInt(op.maxFeePerGas) })
        return `0x${calls.sent.length.toString(16).padStart(64, '0')}`
      }
      throw new Error(`unexpected bundler request ${method}`)
    },
  })
  const client = createPublicClient({ chain: foundry, transport: chain }) as PublicClient
  const bundler = createBundlerClient({ client, chain: foundry, transport: bundlerTransport })
  return {
    calls,
    client,
    bundler,
    /** The gas price jumps: the bundler answers and requires at least `fee` from now on. */
    jump(fee: bigint) {
      price = fee
      minFee = fee
    },
    /** The next latest blocks are at these times. */
    blocksAt(...times: number[]) {
      blockTimes.push(...times)
    },
    /** Every latest block is at `time` (the chain makes no new block). */
    stall(time: number) {
      stalled = time
    },
    /**
     * The bundler refuses the next `count` userOps as out of their time range; `andTakesThem`: it lies, and each
     * one it refuses lands anyway (the nonce moves).
     */
    refuseWindows(count: number, andTakesThem = false) {
      windowRefusals = count
      takesRefused = andTakesThem
    },
  }
}

async function setUp(options: { transferLimit?: UsageLimit; expiresIn?: number } = {}) {
  const stack = fakeStack()
  const waits: number[] = []
  const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
  const record: SessionSendRecord = {
    account,
    chainId: foundry.id,
    spec: {
      signer: signer.publicKey,
      expiresAt: Math.floor(Date.now() / 1000) + (options.expiresIn ?? 3600),
      feeLimit: lifetime(parseEther('1')),
      callPolicies: [],
      transferPolicies: [
        transferPolicy({
          target: friend,
          maxValuePerUse: 10n,
          valueLimit: options.transferLimit ?? lifetime(100n),
        }),
      ],
    },
  }
  const sender = createSessionSender({
    clients: () => ({
      client: stack.client,
      bundler: stack.bundler,
      watcher: {
        wait: async (hash) => ({ transactionHash: hash, blockNumber: 17n, success: true }),
      },
    }),
    urls: () => ({ rpcUrl: 'http://chain.test', bundlerUrl: 'http://bundler.test' }),
    readState: async () => ({
      status: 'active',
      feeRemaining: parseEther('1'),
      callPolicies: [],
      transferValueRemaining: [100n],
    }),
    signer: async () => signer,
    validator: () => validator,
    banned: () => [],
    paymaster: () => undefined,
    onIncluded: () => {},
    maxParallel: 8,
    sleep: async (ms) => {
      waits.push(ms)
    },
  })
  const send = () => sender.send(record, [{ to: friend, value: 1n }], true)
  return { stack, send, waits }
}

describe('createSessionSender', () => {
  test("behavior: sends close together reuse the bundler's gas price instead of waiting for it again", async () => {
    const { stack, send } = await setUp()
    await send()
    await send()
    expect(stack.calls.sent).toHaveLength(2)
    expect(stack.calls.gasPrice).toBe(1)
  })

  test('behavior: a reused price the bundler refuses is read again and the send goes through, once', async () => {
    const { stack, send } = await setUp()
    await send()
    stack.jump(5_000_000_000n)
    const result = await send()
    expect(result).toMatchObject({ userOpHash: expect.stringMatching(/^0x0{63}2$/) })
    expect(stack.calls.sent.map((op) => op.maxFeePerGas)).toEqual([1_000_000_000n, 5_000_000_000n])
    expect(stack.calls.gasPrice).toBe(2)
  })

  test('behavior: a validity window the bundler refuses (-32503) is waited out and the send goes through, once', async () => {
    const { stack, send, waits } = await setUp()
    stack.refuseWindows(2)
    const result = await send()
    expect(result).toMatchObject({ userOpHash: expect.stringMatching(/^0x0{63}1$/) })
    expect(stack.calls.refusedWindows).toBe(2)
    expect(stack.calls.sent).toHaveLength(1)
    expect(waits).toHaveLength(2)
    // The refused window is not a price problem: the price is not read again for it.
    expect(stack.calls.gasPrice).toBe(1)
  })

  test('error: a bundler that keeps refusing the validity window ends the send with -32003 and its reason', async () => {
    const { stack, send, waits } = await setUp()
    stack.refuseWindows(100)
    const error = await rejectionOf(send())
    expect(error).toBeInstanceOf(TransactionRejectedError)
    expect(error).toMatchObject({ code: -32003 })
    expect((error as TransactionRejectedError).shortMessage).toMatch(
      /^The bundler refused the session transaction's validity window \(.*UserOperation expires too soon.*\) and did not take it within 45 s\. Nothing was sent\.$/,
    )
    expect(stack.calls.sent).toHaveLength(0)
    // Five sends, four waits between them: then it gives up.
    expect(stack.calls.refusedWindows).toBe(5)
    expect(waits).toHaveLength(4)
  })

  test("error: a session that ends within the bundler's margin is not sent again: the error names the expiry", async () => {
    const { stack, send, waits } = await setUp({ expiresIn: 20 })
    stack.refuseWindows(1)
    const error = await rejectionOf(send())
    expect(error).toMatchObject({ code: -32003 })
    expect((error as TransactionRejectedError).shortMessage).toMatch(
      /^The session expires at .*Z, too soon for the bundler to take a transaction \(.*UserOperation expires too soon.*\)\. Nothing was sent\.$/,
    )
    expect(stack.calls.refusedWindows).toBe(1)
    expect(waits).toEqual([])
  })

  test('attack: a bundler that refuses the window yet takes the op gets no second one: the moved nonce stops the send', async () => {
    const { stack, send, waits } = await setUp()
    stack.refuseWindows(1, true)
    const error = await rejectionOf(send())
    expect(error).toBeInstanceOf(TransactionRejectedError)
    expect((error as TransactionRejectedError).shortMessage).toMatch(
      /^The account's nonce moved while the session transaction waited to be sent again: .* Nothing more was sent; read the session state before sending it again\.$/,
    )
    expect(stack.calls.refusedWindows).toBe(1)
    expect(stack.calls.sent).toHaveLength(0)
    expect(waits).toHaveLength(1)
  })
})

describe('a new allowance period before the chain has a block in it', () => {
  const hourStart = () => Math.floor(Date.now() / 3_600_000) * 3600

  test('behavior: the send waits for a block in the period and reads the state there; then it goes through', async () => {
    const { stack, send, waits } = await setUp({ transferLimit: allowance(100n, '1h') })
    // The latest block is 10 s before this hour began, twice (the read, the first look); then one in the hour.
    stack.blocksAt(hourStart() - 10, hourStart() - 10)
    const result = await send()
    expect(result).toMatchObject({ userOpHash: expect.stringMatching(/^0x0{63}1$/) })
    expect(waits).toEqual([250, 250])
    // The first read, two looks, and the read again in the new period.
    expect(stack.calls.blocks).toBe(4)
  })

  test('error: a chain that makes no block in the period ends the send, naming it; nothing is sent', async () => {
    const { stack, send, waits } = await setUp({ transferLimit: allowance(100n, '1h') })
    stack.stall(hourStart() - 10)
    const error = await rejectionOf(send())
    expect(error).toBeInstanceOf(TransactionRejectedError)
    expect((error as TransactionRejectedError).shortMessage).toMatch(
      /^The chain has made no block since an allowance period of the session began at .*Z \(latest block at .*Z\): a session transaction in that period can't be checked before one\. Nothing was sent\.$/,
    )
    expect(stack.calls.sent).toHaveLength(0)
    expect(waits).toHaveLength(120)
  })

  test('behavior: a spec without allowances never waits for a block', async () => {
    const { stack, send, waits } = await setUp()
    stack.blocksAt(hourStart() - 10)
    await send()
    expect(waits).toEqual([])
    expect(periodStartOf(specWith(allowance(1n, '1d')), 86_400 * 3 + 5)).toBe(86_400 * 3)
    expect(periodStartOf(specWith(lifetime(1n)), 86_400 * 3 + 5)).toBe(0)
  })
})

describe('timeRangeDelayMs', () => {
  const spec = (period: number) => specWith(allowance(10n, period))
  const hour = 3600 * 1000

  test('behavior: near the end of an allowance period it waits for the next one to have run 6 s', () => {
    expect(timeRangeDelayMs(spec(3600), 100 * hour - 20_000)).toBe(26_000)
    expect(timeRangeDelayMs(spec(3600), 100 * hour - 1_500)).toBe(7_500)
  })

  test('behavior: a period that just began waits until it has run 6 s; elsewhere 2 s', () => {
    expect(timeRangeDelayMs(spec(3600), 100 * hour + 1_000)).toBe(5_000)
    expect(timeRangeDelayMs(spec(3600), 100 * hour + 600_000)).toBe(2_000)
    // Without an allowance there is no period to wait for.
    expect(timeRangeDelayMs({ ...spec(3600), transferPolicies: [] }, 100 * hour - 20_000)).toBe(2_000)
  })
})

function specWith(valueLimit: UsageLimit): SessionSpec {
  return {
    signer: `0x${'11'.repeat(64)}`,
    expiresAt: 4_000_000_000,
    feeLimit: lifetime(1n),
    callPolicies: [],
    transferPolicies: [transferPolicy({ target: friend, maxValuePerUse: 1n, valueLimit })],
  }
}
