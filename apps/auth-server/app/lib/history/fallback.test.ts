import type { Address, Hex } from 'viem'
import { numberToHex } from 'viem'
import { describe, expect, test } from 'vitest'
import type { HistoryChain } from './entries'
import { withFallback } from './fallback'
import { type HistoryPage, type HistorySource, InvalidCursorError } from './HistorySource'
import { createIndexerSource, IndexerUnavailableError } from './indexer'

const account: Address = '0x1111111111111111111111111111111111111111'
const chain: HistoryChain = {
  id: 31337,
  contracts: { entryPoint: '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108' },
  tokens: [],
}
const node = (head: number) => ({ request: async () => numberToHex(head) as Hex })

/** An indexer at block `indexed` whose `/history` answers no rows; `down`: every request fails. */
function fakeIndexer(options: { indexed: number; down?: boolean }) {
  const asked: string[] = []
  const fetcher = (async (input: string | URL | Request) => {
    const url = String(input)
    asked.push(url)
    if (options.down) throw new TypeError('fetch failed')
    if (url.endsWith('/status'))
      return Response.json({ chain31337: { id: 31337, block: { number: options.indexed, timestamp: 0 } } })
    return Response.json({ entries: [], next: null })
  }) as typeof fetch
  return { fetcher, asked }
}

const nodeSource: HistorySource = {
  kind: 'node-logs',
  description: 'node logs (eth_getLogs in 5,000-block ranges)',
  async page(): Promise<HistoryPage> {
    return { entries: [], next: undefined, notes: [], errors: [] }
  },
}

describe('indexer source', () => {
  test('behavior: caught up within maxLag, it answers and names itself', async () => {
    const { fetcher, asked } = fakeIndexer({ indexed: 98 })
    const source = createIndexerSource({
      chain,
      account,
      url: 'http://127.0.0.1:42069/',
      rpc: node(100),
      fetch: fetcher,
    })
    const page = await source.page('90:5', 20)
    expect(page.entries).toEqual([])
    expect(source.description).toBe('indexer (127.0.0.1:42069)')
    expect(asked).toContain(`http://127.0.0.1:42069/history/31337/${account}?limit=20&before=90%3A5`)
  })

  test('error: behind the node by more than maxLag', async () => {
    const { fetcher } = fakeIndexer({ indexed: 60 })
    const source = createIndexerSource({
      chain,
      account,
      url: 'http://127.0.0.1:42069',
      rpc: node(100),
      fetch: fetcher,
    })
    await expect(source.page(undefined, 20)).rejects.toThrow(
      new IndexerUnavailableError('the indexer at 127.0.0.1:42069 is 40 blocks behind'),
    )
  })

  test('error: a cursor it did not make', async () => {
    const { fetcher, asked } = fakeIndexer({ indexed: 100 })
    const source = createIndexerSource({
      chain,
      account,
      url: 'http://127.0.0.1:42069',
      rpc: node(100),
      fetch: fetcher,
    })
    await expect(source.page('{"31337":"1:2"}', 20)).rejects.toBeInstanceOf(InvalidCursorError)
    expect(asked).toEqual([])
  })
})

describe('withFallback', () => {
  test('behavior: the node answers while the indexer is down, and the description says why; back when it is up', async () => {
    const indexer = fakeIndexer({ indexed: 100, down: true })
    const primary = createIndexerSource({
      chain,
      account,
      url: 'http://127.0.0.1:42069',
      rpc: node(100),
      fetch: indexer.fetcher,
    })
    const source = withFallback(primary, nodeSource)
    await source.page(undefined, 20)
    expect(source.kind).toBe('node-logs')
    expect(source.description).toBe(
      'node logs (eth_getLogs in 5,000-block ranges): the indexer at 127.0.0.1:42069 does not answer',
    )
    const up = fakeIndexer({ indexed: 100 })
    const again = withFallback(
      createIndexerSource({
        chain,
        account,
        url: 'http://127.0.0.1:42069',
        rpc: node(100),
        fetch: up.fetcher,
      }),
      nodeSource,
    )
    await again.page(undefined, 20)
    expect(again.kind).toBe('indexer')
    expect(again.description).toBe('indexer (127.0.0.1:42069)')
  })
})
