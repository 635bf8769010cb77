import { expect, test } from 'vitest'
import { entryPointAddress, parseConfig } from './config'

const chain = {
  id: 31337,
  name: 'SSO Devnet',
  rpcUrl: 'http://127.0.0.1:8545',
  bundlerUrl: 'http://127.0.0.1:4337',
}

test('behavior: a valid config is kept; entryPoint defaults to the canonical v0.8 address', () => {
  const config = parseConfig({
    authServerUrl: 'http://localhost:3002',
    chains: [{ ...chain, contracts: {} }],
  })
  expect(config.authServerUrl).toBe('http://localhost:3002')
  expect(config.chains[0]).toMatchObject({ ...chain, contracts: { entryPoint: entryPointAddress } })
})

test('error: a config of the wrong shape names the bad field', () => {
  expect(() => parseConfig(null)).toThrow(/not an object/)
  expect(() => parseConfig({ authServerUrl: 'nope', chains: [chain] })).toThrow(/authServerUrl/)
  expect(() => parseConfig({ authServerUrl: 'http://a', chains: [] })).toThrow(/chains/)
  expect(() => parseConfig({ authServerUrl: 'http://a', chains: [{ ...chain, id: 0 }] })).toThrow(
    /chains\[0\]\.id/,
  )
  expect(() =>
    parseConfig({ authServerUrl: 'http://a', chains: [{ ...chain, contracts: { entryPoint: '0x12' } }] }),
  ).toThrow(/contracts\.entryPoint/)
})

test('behavior: the chain lists its tokens; a token without decimals is refused', () => {
  const token = {
    address: '0x2222222222222222222222222222222222222222',
    name: 'Demo Dollar',
    symbol: 'DUSD',
    decimals: 6,
  }
  const config = parseConfig({ authServerUrl: 'http://a', chains: [{ ...chain, tokens: [token] }] })
  expect(config.chains[0]?.tokens).toEqual([token])
  expect(parseConfig({ authServerUrl: 'http://a', chains: [chain] }).chains[0]?.tokens).toEqual([])
  expect(() =>
    parseConfig({
      authServerUrl: 'http://a',
      chains: [{ ...chain, tokens: [{ ...token, decimals: 'six' }] }],
    }),
  ).toThrow(/tokens\[0\]\.decimals/)
})

test('behavior: a chain keeps the block its contracts were deployed in; a negative one is refused', () => {
  expect(
    parseConfig({ authServerUrl: 'http://a', chains: [{ ...chain, fromBlock: 42 }] }).chains[0]?.fromBlock,
  ).toBe(42)
  expect(parseConfig({ authServerUrl: 'http://a', chains: [chain] }).chains[0]).not.toHaveProperty(
    'fromBlock',
  )
  expect(() => parseConfig({ authServerUrl: 'http://a', chains: [{ ...chain, fromBlock: -1 }] })).toThrow(
    /chains\[0\]\.fromBlock/,
  )
})
