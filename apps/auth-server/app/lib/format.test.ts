import { describe, expect, test } from 'vitest'
import { formatAmount, formatDuration, formatRelative, shortHex } from './format'

describe('formatAmount', () => {
  test('behavior: decimals, thousands separators and the symbol', () => {
    expect(formatAmount(1_234_567_800n, 6, 'DUSD')).toBe('1,234.5678 DUSD')
    expect(formatAmount(10n ** 18n, 18, 'ETH')).toBe('1 ETH')
    expect(formatAmount(0n, 18, 'ETH')).toBe('0 ETH')
    expect(formatAmount(1_000_000_000_000n * 10n ** 6n, 6, 'DUSD')).toBe('1,000,000,000,000 DUSD')
  })

  test('behavior: fraction digits are cut, never rounded up, and a dust amount is not shown as 0', () => {
    expect(formatAmount(1_999_999_999_999_999_999n, 18, 'ETH')).toBe('1.999999 ETH')
    expect(formatAmount(1n, 18, 'ETH')).toBe('< 0.000001 ETH')
    expect(formatAmount(-1n, 18, 'ETH')).toBe('> -0.000001 ETH')
    expect(formatAmount(1n, 6, 'DUSD', 2)).toBe('< 0.01 DUSD')
    expect(formatAmount(-2_500_000n, 6, 'DUSD')).toBe('-2.5 DUSD')
  })

  test('behavior: 0 decimals (raw units of an unknown token)', () => {
    expect(formatAmount(12_345n, 0, 'units')).toBe('12,345 units')
  })
})

describe('times and hex', () => {
  test('behavior: durations take the two largest units', () => {
    expect(formatDuration(3_900)).toBe('1 h 5 min')
    expect(formatDuration(86_400 * 3 + 7_200 + 5)).toBe('3 days 2 h')
    expect(formatDuration(86_400)).toBe('1 day')
    expect(formatDuration(0)).toBe('0 s')
    expect(formatDuration(45)).toBe('45 s')
  })

  test('behavior: relative times in both directions', () => {
    expect(formatRelative(100, 160)).toBe('1 min ago')
    expect(formatRelative(4_000, 400)).toBe('in 1 h')
    expect(formatRelative(100, 102)).toBe('just now')
  })

  test('behavior: long hex is shortened, short text is left alone', () => {
    expect(shortHex('0x1234567890abcdef1234567890abcdef12345678')).toBe('0x1234…5678')
    expect(shortHex('0x12')).toBe('0x12')
  })
})
