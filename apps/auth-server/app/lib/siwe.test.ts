import { createSiweMessage, parseSiweMessage } from 'viem/siwe'
import { describe, expect, test } from 'vitest'
import { siweMismatches } from './siwe'

const account = '0x1111111111111111111111111111111111111111'
const request = { origin: 'http://localhost:3001', account, chainId: 31337 } as const
const message = (overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {}) =>
  parseSiweMessage(
    createSiweMessage({
      address: account,
      chainId: 31337,
      domain: 'localhost:3001',
      nonce: 'abcdefgh12',
      uri: 'http://localhost:3001',
      version: '1',
      ...overrides,
    }),
  )

describe('siweMismatches', () => {
  test('behavior: a sign-in for the app that asks, with this account and chain, matches', () => {
    expect(siweMismatches(message(), request)).toEqual([])
  })

  test('attack: a sign-in for another site, account or chain is named before the passkey', () => {
    expect(
      siweMismatches(message({ domain: 'bank.example', uri: 'https://bank.example/login' }), request),
    ).toEqual([
      'It signs you in to bank.example, but the request comes from http://localhost:3001.',
      'Its URI is https://bank.example/login, not on http://localhost:3001.',
    ])
    expect(
      siweMismatches(message({ address: '0x2222222222222222222222222222222222222222', chainId: 1 }), request),
    ).toEqual([
      `It names the account 0x2222222222222222222222222222222222222222, not yours (${account}).`,
      'It is for chain 1, but the request is on chain 31337.',
    ])
  })
})
