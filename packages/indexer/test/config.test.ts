// Outside src/: Ponder runs every file under src/ as indexing code.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { isListedCall } from '../src/calls.js'
import { IndexerConfigError, readIndexerChains } from '../src/chains.js'

const entryPoint = '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108'
const factory = '0x9EC39F5249E797577e1FF356a7b7DFD3D9eEe972'
const validator = '0x266829DfDAABCBe6650aB68C811573b6CE3b8479'
const token = '0xb37438ACFe3e3da0795d7E9ffA1F0e95d37c611F'
const account = '0x1111111111111111111111111111111111111111'

function configFile(config: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-indexer-'))
  const file = path.join(dir, 'sso-config.json')
  fs.writeFileSync(file, JSON.stringify(config))
  return file
}
const chain = {
  id: 31337,
  rpcUrl: 'http://127.0.0.1:8545',
  contracts: { entryPoint, accountFactory: factory, webAuthnValidator: validator },
  tokens: [{ address: token }],
}

describe('readIndexerChains', () => {
  test('behavior: the chains of sso-config.json, with start blocks and RPC URLs from the environment', () => {
    const file = configFile({ chains: [chain, { ...chain, id: 10 }, { ...chain, id: 11, fromBlock: 77 }] })
    const chains = readIndexerChains({
      SSO_INDEXER_CONFIG: file,
      SSO_INDEXER_START_BLOCKS: '10=1234',
      SSO_INDEXER_RPC_10: 'https://rpc.example',
    })
    expect(chains).toEqual([
      {
        name: 'chain31337',
        id: 31337,
        rpcUrl: 'http://127.0.0.1:8545',
        startBlock: 0,
        pollingInterval: 250,
        entryPoint,
        accountFactory: factory,
        modules: [validator],
        tokens: [token],
      },
      expect.objectContaining({
        name: 'chain10',
        rpcUrl: 'https://rpc.example',
        startBlock: 1234,
        pollingInterval: 1_000,
      }),
      // Without an override, a chain starts at the block its config names for our contracts' deployment.
      expect.objectContaining({ name: 'chain11', startBlock: 77 }),
    ])
  })

  test('error: a missing or malformed configuration stops the indexer, naming what is wrong', () => {
    const fails = (env: Record<string, string | undefined>, message: string | RegExp) =>
      expect(() => readIndexerChains(env)).toThrow(
        expect.objectContaining({ name: 'IndexerConfigError', message: expect.stringMatching(message) }),
      )
    fails({}, 'SSO_INDEXER_CONFIG must name an sso-config.json.')
    fails(
      { SSO_INDEXER_CONFIG: '/nonexistent/sso-config.json' },
      /^Cannot read \/nonexistent\/sso-config.json: /,
    )
    fails({ SSO_INDEXER_CONFIG: configFile({ chains: [] }) }, /has no chains\.$/)
    const bad = configFile({ chains: [{ ...chain, contracts: { ...chain.contracts, entryPoint: 'nope' } }] })
    fails({ SSO_INDEXER_CONFIG: bad }, /chains\[0\]\.contracts\.entryPoint must be an address\.$/)
    fails(
      { SSO_INDEXER_CONFIG: configFile({ chains: [chain] }), SSO_INDEXER_START_BLOCKS: '31337=-1' },
      'SSO_INDEXER_START_BLOCKS: expected <chainId>=<block>, got 31337=-1.',
    )
    fails(
      { SSO_INDEXER_CONFIG: configFile({ chains: [{ ...chain, fromBlock: -5 }] }) },
      /chains\[0\]\.fromBlock must be a block number\.$/,
    )
    expect(() => readIndexerChains({})).toThrow(IndexerConfigError)
  })
})

describe('isListedCall', () => {
  const call = { type: 'call', from: account, to: token, value: 5n } as const
  test('behavior: a successful call with value is listed; the prefund to the EntryPoint, reverts and zero value are not', () => {
    expect(isListedCall(call, account, entryPoint)).toBe(true)
    expect(isListedCall({ ...call, to: entryPoint }, account, entryPoint)).toBe(false)
    expect(isListedCall({ ...call, error: 'Reverted' }, account, entryPoint)).toBe(false)
    expect(isListedCall({ ...call, value: 0n }, account, entryPoint)).toBe(false)
    expect(isListedCall({ ...call, type: 'delegatecall' }, account, entryPoint)).toBe(false)
    // ETH the EntryPoint sends back to the account is listed (not the prefund).
    expect(isListedCall({ ...call, from: entryPoint, to: account }, account, entryPoint)).toBe(true)
  })
})
