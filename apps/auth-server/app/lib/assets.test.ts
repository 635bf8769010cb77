import { describe, expect, test } from 'vitest'
import { type Asset, type ChainAssets, ether, totals } from './assets'

const dusd: Asset = {
  address: '0xb37438ACFe3e3da0795d7E9ffA1F0e95d37c611F',
  name: 'Demo Dollar',
  symbol: 'DUSD',
  decimals: 6,
}

describe('totals', () => {
  test('behavior: adds each token over the chains that answered, ETH first', () => {
    const chains: ChainAssets[] = [
      {
        chainId: 1,
        chainName: 'A',
        ok: true,
        balances: [
          { asset: ether, balance: 5n },
          { asset: dusd, balance: 7n },
        ],
      },
      { chainId: 2, chainName: 'B', ok: false, error: 'fetch failed' },
      {
        chainId: 3,
        chainName: 'C',
        ok: true,
        balances: [
          { asset: ether, balance: 10n },
          { asset: dusd, balance: 1n },
        ],
      },
    ]
    expect(totals(chains)).toEqual([
      { asset: ether, total: 15n, chains: 2 },
      { asset: dusd, total: 8n, chains: 2 },
    ])
  })

  test('behavior: tokens with the same symbol but other decimals are not added together', () => {
    const other: Asset = { ...dusd, decimals: 18 }
    const chains: ChainAssets[] = [
      { chainId: 1, chainName: 'A', ok: true, balances: [{ asset: dusd, balance: 1n }] },
      { chainId: 2, chainName: 'B', ok: true, balances: [{ asset: other, balance: 2n }] },
    ]
    expect(totals(chains).map((t) => [t.asset.decimals, t.total])).toEqual([
      [6, 1n],
      [18, 2n],
    ])
  })

  test('behavior: no chain answered, no totals', () => {
    expect(totals([{ chainId: 1, chainName: 'A', ok: false, error: 'down' }])).toEqual([])
  })
})
