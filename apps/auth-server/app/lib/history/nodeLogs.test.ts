import { encodeSessionSpec, lifetime, transferPolicy } from '@sso/client/session'
import { sessionKeyValidatorAbi, ssoAccountAbi } from '@sso/contracts-abi'
import {
  type Abi,
  type Address,
  encodeAbiParameters,
  encodeEventTopics,
  erc20Abi,
  type Hex,
  numberToHex,
  pad,
  parseEther,
} from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { describe, expect, test } from 'vitest'
import type { RawLog } from './entries'
import { InvalidCursorError } from './HistorySource'
import { mergeSources } from './merged'
import {
  createNodeLogsSource,
  type HistoryChain,
  type NodeRpc,
  noTraceNote,
  validatorOfNonce,
} from './nodeLogs'

const account: Address = '0x1111111111111111111111111111111111111111'
const friend: Address = '0x4444444444444444444444444444444444444444'
const chain: HistoryChain = {
  id: 31337,
  contracts: {
    entryPoint: '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108',
    webAuthnValidator: '0x5D8e50Eda0230FB0BF1dBBa942777dC3BA6661EB',
    sessionKeyValidator: '0xf52C4723343B1f3195967533e5E165a74769944D',
    guardianExecutor: '0x7d9AA200F1eBE974c8f009719F1E35a08Dbc3CC0',
    sponsorPaymaster: '0x0844396cCA45e4e08b16edbd81d5659A16896473',
  },
  tokens: [{ address: '0xb37438ACFe3e3da0795d7E9ffA1F0e95d37c611F', symbol: 'DUSD', decimals: 6 }],
}
const token = chain.tokens[0]!.address

type Log = RawLog
type Trace = {
  action: { from: Address; to: Address; value: Hex; callType: string }
  blockNumber: number
  transactionHash: Hex
  transactionPosition: number
  traceAddress: number[]
  type: string
}

/** A node with `logs` and `traces` that answers eth_getLogs / trace_filter like anvil, and counts the calls. */
function fakeNode(options: { logs: Log[]; traces?: Trace[] | 'unsupported'; head: number; down?: boolean }) {
  const calls: { method: string; params?: unknown }[] = []
  const rpc: NodeRpc = {
    async request({ method, params }) {
      calls.push({ method, params })
      if (options.down) throw new Error('fetch failed')
      const [filter] = (params ?? []) as [Record<string, unknown>]
      switch (method) {
        case 'eth_blockNumber':
          return numberToHex(options.head)
        case 'eth_getBlockByNumber':
          return { timestamp: numberToHex(1_700_000_000 + Number(BigInt((params as [Hex])[0])) * 12) }
        case 'eth_getLogs': {
          const from = BigInt(filter.fromBlock as Hex)
          const to = BigInt(filter.toBlock as Hex)
          const addresses =
            filter.address === undefined ? undefined : ([] as string[]).concat(filter.address as string)
          const topics = (filter.topics ?? []) as (Hex | Hex[] | null)[]
          return options.logs.filter((log) => {
            const block = BigInt(log.blockNumber)
            if (block < from || block > to) return false
            if (addresses && !addresses.some((a) => a.toLowerCase() === log.address.toLowerCase()))
              return false
            return topics.every((t, i) => t === null || ([] as Hex[]).concat(t).includes(log.topics[i]!))
          })
        }
        case 'trace_filter': {
          if (options.traces === 'unsupported')
            throw Object.assign(new Error('Method not found'), { code: -32601 })
          const from = BigInt(filter.fromBlock as Hex)
          const to = BigInt(filter.toBlock as Hex)
          const fromAddress = filter.fromAddress as Address[] | undefined
          const toAddress = filter.toAddress as Address[] | undefined
          return (options.traces ?? []).filter(
            (t) =>
              BigInt(t.blockNumber) >= from &&
              BigInt(t.blockNumber) <= to &&
              (!fromAddress || fromAddress.includes(t.action.from)) &&
              (!toAddress || toAddress.includes(t.action.to)),
          )
        }
      }
      throw new Error(`unexpected ${method}`)
    },
  }
  return { rpc, calls }
}

const hash = (n: number) => pad(numberToHex(n), { size: 32 })
let logIndex = 0
function log(
  at: { block: number; tx?: number },
  address: Address,
  abi: Abi,
  eventName: string,
  args: Record<string, unknown>,
): Log {
  const event = abi.find((item) => item.type === 'event' && item.name === eventName) as Extract<
    Abi[number],
    { type: 'event' }
  >
  const topics = encodeEventTopics({ abi: [event], eventName, args } as never) as Hex[]
  const data = encodeAbiParameters(
    event.inputs.filter((i) => !i.indexed),
    event.inputs.filter((i) => !i.indexed).map((i) => args[i.name!]),
  )
  return {
    address,
    topics,
    data,
    blockNumber: numberToHex(at.block),
    transactionHash: hash(at.block * 100 + (at.tx ?? 0)),
    transactionIndex: numberToHex(at.tx ?? 0),
    logIndex: numberToHex(logIndex++),
  }
}
const userOp = (
  block: number,
  validator: Address,
  options: { success?: boolean; paymaster?: Address } = {},
) =>
  log({ block }, chain.contracts.entryPoint, entryPoint08Abi as Abi, 'UserOperationEvent', {
    userOpHash: hash(block),
    sender: account,
    paymaster: options.paymaster ?? '0x0000000000000000000000000000000000000000',
    nonce: (BigInt(validator) << 96n) | 7n,
    success: options.success ?? true,
    actualGasCost: parseEther('0.0001'),
    actualGasUsed: 100_000n,
  })
const transfer = (block: number, from: Address, to: Address, value: bigint) =>
  log({ block }, token, erc20Abi as Abi, 'Transfer', { from, to, value })

describe('node-logs history source', () => {
  test('behavior: decodes every kind of entry, newest first, with block times', async () => {
    const spec = {
      signer: '0x6666666666666666666666666666666666666666' as Hex,
      expiresAt: 2_000_000_000,
      feeLimit: lifetime(parseEther('0.01')),
      callPolicies: [],
      transferPolicies: [
        transferPolicy({
          target: friend,
          maxValuePerUse: parseEther('0.1'),
          valueLimit: lifetime(parseEther('1')),
        }),
      ],
    }
    const logs = [
      userOp(10, chain.contracts.webAuthnValidator!, { paymaster: chain.contracts.sponsorPaymaster! }),
      log(
        { block: 11 },
        chain.contracts.sessionKeyValidator!,
        sessionKeyValidatorAbi as Abi,
        'SessionCreated',
        {
          account,
          sessionId: hash(99),
          spec: encodeSessionSpec(spec),
        },
      ),
      userOp(12, chain.contracts.sessionKeyValidator!, { success: false }),
      transfer(13, friend, account, 2_500_000n),
      transfer(14, account, friend, 1_000_000n),
      log({ block: 15 }, account, ssoAccountAbi as Abi, 'ModuleInstalled', {
        moduleTypeId: 2n,
        module: chain.contracts.guardianExecutor,
      }),
      log(
        { block: 16 },
        chain.contracts.sessionKeyValidator!,
        sessionKeyValidatorAbi as Abi,
        'SessionRevoked',
        { account, sessionId: hash(99) },
      ),
      // Not the account's: filtered out by the node's topics.
      transfer(17, friend, '0x9999999999999999999999999999999999999999', 5n),
    ]
    const traces: Trace[] = [
      {
        action: { from: friend, to: account, value: numberToHex(parseEther('2')), callType: 'call' },
        blockNumber: 9,
        transactionHash: hash(900),
        transactionPosition: 0,
        traceAddress: [],
        type: 'call',
      },
      {
        action: {
          from: account,
          to: chain.contracts.entryPoint,
          value: numberToHex(1000n),
          callType: 'call',
        },
        blockNumber: 12,
        transactionHash: hash(1200),
        transactionPosition: 0,
        traceAddress: [0],
        type: 'call',
      },
    ]
    const node = fakeNode({ logs, traces, head: 20 })
    const source = createNodeLogsSource({ chain, account, rpc: node.rpc })
    const page = await source.page(undefined, 50)
    expect(page.entries.map((e) => [Number(e.blockNumber), e.kind, e.title])).toEqual([
      [16, 'session-revoked', 'Session revoked'],
      [15, 'module-installed', 'Module installed (executor)'],
      [14, 'token-out', 'Sent'],
      [13, 'token-in', 'Received'],
      [12, 'user-operation', 'Session transaction'],
      [11, 'session-created', 'Session created'],
      [10, 'user-operation', 'Passkey transaction'],
      [9, 'eth-in', 'Received'],
    ])
    const [revoked, module, out, incoming, failed, created, passkey, eth] = page.entries
    expect(module!.detail).toBe('GuardianExecutor (recovery)')
    expect(out!.detail).toBe('1 DUSD to 0x4444…4444')
    expect(out!.amount).toEqual({ value: 1_000_000n, symbol: 'DUSD', decimals: 6, direction: 'out' })
    expect(incoming!.counterparty).toBe(friend)
    expect(failed!.status).toBe('reverted')
    expect(failed!.userOp).toMatchObject({ signer: 'session', paymaster: undefined })
    expect(failed!.detail).toBe('Reverted; fee 0.0001 ETH paid by the account')
    expect(created!.detail).toBe(`session ${hash(99).slice(0, 10)}…${hash(99).slice(-6)}, 1 policy`)
    expect(revoked!.sessionId).toBe(hash(99))
    expect(passkey!.userOp).toMatchObject({ signer: 'passkey', paymaster: chain.contracts.sponsorPaymaster })
    expect(passkey!.detail).toBe('fee 0.0001 ETH paid by the SponsorPaymaster')
    expect(eth!.amount).toEqual({ value: parseEther('2'), symbol: 'ETH', decimals: 18, direction: 'in' })
    expect(eth!.timestamp).toBe(1_700_000_000 + 9 * 12)
    expect(new Set(page.entries.map((e) => e.chainId))).toEqual(new Set([31337]))
    expect(page.next).toBeUndefined()
    expect(page.notes).toEqual([])
  })

  test('behavior: pages walk back through bounded block ranges without gaps or repeats', async () => {
    const logs = Array.from({ length: 25 }, (_, i) => transfer(1 + i * 4, friend, account, BigInt(i + 1)))
    const node = fakeNode({ logs, head: 100 })
    const source = createNodeLogsSource({ chain, account, rpc: node.rpc, blockRange: 10n, traceRange: 3n })
    const seen: bigint[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await source.page(cursor, 7)
      expect(page.entries.length).toBeLessThanOrEqual(7)
      seen.push(...page.entries.map((e) => e.amount!.value))
      cursor = page.next
      pages++
    } while (cursor && pages < 20)
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => BigInt(25 - i)))
    // Each range was read once: pages that continue in a range read it from the cache.
    const ranges = node.calls
      .filter((c) => c.method === 'eth_getLogs')
      .map((c) => JSON.stringify([(c.params as [{ fromBlock: Hex }])[0].fromBlock, JSON.stringify(c.params)]))
    expect(new Set(ranges).size).toBe(ranges.length)
    // Every eth_getLogs asked for at most 10 blocks, every trace_filter for at most 3.
    for (const call of node.calls.filter((c) => c.method === 'trace_filter')) {
      const [filter] = call.params as [{ fromBlock: Hex; toBlock: Hex }]
      expect(Number(BigInt(filter.toBlock) - BigInt(filter.fromBlock))).toBeLessThan(3)
    }
    expect(node.calls.filter((c) => c.method === 'trace_filter').length).toBeGreaterThan(0)
    for (const call of node.calls.filter((c) => c.method === 'eth_getLogs')) {
      const [filter] = call.params as [{ fromBlock: Hex; toBlock: Hex }]
      expect(Number(BigInt(filter.toBlock) - BigInt(filter.fromBlock))).toBeLessThan(10)
    }
  })

  test('behavior: a node without trace_filter still lists logs and says what it cannot see', async () => {
    const node = fakeNode({ logs: [transfer(3, friend, account, 1n)], traces: 'unsupported', head: 5 })
    const page = await createNodeLogsSource({ chain, account, rpc: node.rpc }).page(undefined, 10)
    expect(page.entries.map((e) => e.kind)).toEqual(['token-in'])
    expect(page.notes).toEqual([noTraceNote])
  })

  test('behavior: the per-page range bound answers early with a cursor below the searched ranges', async () => {
    const node = fakeNode({ logs: [transfer(2, friend, account, 1n)], head: 1_000 })
    const source = createNodeLogsSource({
      chain,
      account,
      rpc: node.rpc,
      blockRange: 100n,
      maxRangesPerPage: 3,
    })
    const first = await source.page(undefined, 10)
    expect(first.entries).toEqual([])
    // Aligned ranges: [1000, 1000], [900, 999], [800, 899].
    expect(first.next).toBe(`799:${Number.MAX_SAFE_INTEGER}`)
    let page = first
    while (page.next && page.entries.length === 0) page = await source.page(page.next, 10)
    expect(page.entries.map((e) => Number(e.blockNumber))).toEqual([2])
  })

  test('error: a cursor from elsewhere is an InvalidCursorError', async () => {
    const source = createNodeLogsSource({ chain, account, rpc: fakeNode({ logs: [], head: 1 }).rpc })
    await expect(source.page('{"31337":"1:2"}', 5)).rejects.toThrow(InvalidCursorError)
    await expect(source.page('{"31337":"1:2"}', 5)).rejects.toThrow('Not a node-logs history cursor')
  })

  test('behavior: the nonce key names the validator', () => {
    const validator = chain.contracts.sessionKeyValidator!
    expect(validatorOfNonce((BigInt(validator) << 96n) | (5n << 64n) | 3n).toLowerCase()).toBe(
      validator.toLowerCase(),
    )
  })
})

describe('merged history', () => {
  const other: HistoryChain = { ...chain, id: 31338 }

  test('behavior: two chains merge newest first by block time and page without repeats', async () => {
    const a = fakeNode({ logs: [1, 5, 9].map((b) => transfer(b, friend, account, BigInt(b))), head: 20 })
    const b = fakeNode({
      logs: [2, 6, 7].map((x) => transfer(x, friend, account, BigInt(100 + x))),
      head: 20,
    })
    const merged = mergeSources([
      { chainId: 31337, source: createNodeLogsSource({ chain, account, rpc: a.rpc }) },
      { chainId: 31338, source: createNodeLogsSource({ chain: other, account, rpc: b.rpc }) },
    ])
    const first = await merged.page(undefined, 4)
    expect(first.entries.map((e) => e.amount!.value)).toEqual([9n, 107n, 106n, 5n])
    const second = await merged.page(first.next, 4)
    expect(second.entries.map((e) => e.amount!.value)).toEqual([102n, 1n])
    expect(second.next).toBeUndefined()
  })

  test('error: a chain that does not answer is reported for that chain only; the other still lists', async () => {
    const a = fakeNode({ logs: [transfer(3, friend, account, 3n)], head: 5 })
    const down = fakeNode({ logs: [], head: 5, down: true })
    const merged = mergeSources([
      { chainId: 31337, source: createNodeLogsSource({ chain, account, rpc: a.rpc }) },
      { chainId: 31338, source: createNodeLogsSource({ chain: other, account, rpc: down.rpc }) },
    ])
    const page = await merged.page(undefined, 10)
    expect(page.entries.map((e) => e.chainId)).toEqual([31337])
    expect(page.errors).toEqual([{ chainId: 31338, message: 'fetch failed' }])
    // The failed chain is asked again on the next page.
    expect(page.next).toBe(JSON.stringify({ 31337: null }))
  })
})
