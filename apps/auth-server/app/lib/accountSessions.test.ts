import { allowance, lifetime, unlimited } from '@sso/client/session'
import { parseEther } from 'viem'
import { describe, expect, test } from 'vitest'
import { limitView } from './accountSessions'

const eth = { symbol: 'ETH', decimals: 18 }

describe('limitView', () => {
  test('behavior: an allowance says what is left in this period and when it resets', () => {
    const view = limitView('ETH to 0x44…', allowance(parseEther('1'), '1h'), parseEther('0.25'), eth, 7_300)
    expect(view).toEqual({
      label: 'ETH to 0x44…',
      text: '0.25 ETH left of 1 ETH per 1 h',
      resetsAt: 10_800,
      left: 0.25,
    })
  })

  test('behavior: a lifetime limit has no reset; unlimited has no bar', () => {
    expect(limitView('Gas fees', lifetime(parseEther('0.01')), parseEther('0.004'), eth, 0)).toEqual({
      label: 'Gas fees',
      text: '0.004 ETH left of 0.01 ETH over the session',
      resetsAt: undefined,
      left: 0.4,
    })
    expect(limitView('Gas fees', unlimited, 2n ** 256n - 1n, eth, 0)).toEqual({
      label: 'Gas fees',
      text: 'no limit',
      resetsAt: undefined,
      left: undefined,
    })
  })

  test('behavior: a remaining amount above the limit (a fresh period) shows the whole limit', () => {
    const view = limitView(
      'DUSD',
      allowance(5_000_000n, 60),
      2n ** 256n - 1n,
      { symbol: 'DUSD', decimals: 6 },
      0,
    )
    expect(view.text).toBe('5 DUSD left of 5 DUSD per 1 min')
    expect(view.left).toBe(1)
  })
})
