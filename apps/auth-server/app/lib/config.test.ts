import { deployments } from '@sso/contracts-abi'
import { expect, test } from 'vitest'
import { defaultConfig, InvalidConfigError, isLoopbackOrigin, loadConfig, logsFrom } from './config'
import { gasPayer } from './userOperations'

const good = {
  authServerUrl: 'http://localhost:3002',
  chains: [
    {
      id: 31337,
      name: 'SSO Devnet',
      rpcUrl: 'http://127.0.0.1:8545',
      bundlerUrl: 'http://127.0.0.1:4337',
      contracts: {
        entryPoint: '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108',
        accountFactory: '0x0000000000000000000000000000000000000001',
      },
    },
  ],
}

const respond = (status: number, body: unknown) =>
  (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch

test('behavior: /sso-config.json is used when present', async () => {
  const { config, source } = await loadConfig(respond(200, good))
  expect(source).toBe('sso-config.json')
  expect(config.chains[0]?.contracts.accountFactory).toBe('0x0000000000000000000000000000000000000001')
})

const local = 'http://localhost:3002'
const deployed = 'https://sso.example.com'

test('behavior: on a loopback origin a missing file falls back to the devnet defaults and the manifest', async () => {
  const { config, source } = await loadConfig(respond(404, 'not found'), local)
  expect(source).toBe('defaults')
  expect(config).toEqual(defaultConfig())
  expect(config.chains[0]?.contracts.accountFactory).toBe(deployments[31337].accountFactory)
  const failing = (async () => {
    throw new TypeError('network')
  }) as unknown as typeof fetch
  expect((await loadConfig(failing, 'http://backup.localhost:3003')).source).toBe('defaults')
  const html = (async () =>
    new Response('<!doctype html><html></html>', { status: 200 })) as unknown as typeof fetch
  expect((await loadConfig(html, 'http://127.0.0.1:3002')).source).toBe('defaults')
})

test('error: on any other origin a missing file is an InvalidConfigError, never the devnet defaults', async () => {
  const html = (async () =>
    new Response('<!doctype html><html></html>', { status: 200 })) as unknown as typeof fetch
  const failing = (async () => {
    throw new TypeError('network')
  }) as unknown as typeof fetch
  const cases: [typeof fetch, RegExp][] = [
    [respond(404, 'not found'), /\(HTTP 404\)/],
    [html, /\(not JSON\)/], // a host's catch-all page served for every path
    [failing, /\(no answer\)/],
  ]
  for (const [fetcher, reason] of cases) {
    const error = await loadConfig(fetcher, deployed).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(InvalidConfigError)
    expect((error as InvalidConfigError).shortMessage).toMatch(reason)
    expect((error as InvalidConfigError).shortMessage).toMatch(/^\/sso-config\.json could not be loaded/)
  }
  expect(isLoopbackOrigin('https://localhost.example.com')).toBe(false)
  expect(isLoopbackOrigin('http://[::1]:3002')).toBe(true)
  expect(isLoopbackOrigin('not an origin')).toBe(false)
})

test('error: a file of the wrong shape is an InvalidConfigError naming the field', async () => {
  const bad = { ...good, chains: [{ ...good.chains[0], contracts: { entryPoint: '0x1234' } }] }
  await expect(loadConfig(respond(200, bad))).rejects.toThrow(InvalidConfigError)
  await expect(loadConfig(respond(200, bad))).rejects.toThrow(/entryPoint|address/i)
  await expect(loadConfig(respond(200, { ...good, chains: [] }))).rejects.toThrow(InvalidConfigError)
})

test("behavior: who pays: the dapp's paymaster service, else the chain's, else its SponsorPaymaster, else the account", async () => {
  const { config } = await loadConfig(
    respond(200, {
      ...good,
      chains: [
        { ...good.chains[0], paymasterServiceUrl: 'https://pm.example.org/rpc' },
        {
          ...good.chains[0],
          id: 2,
          contracts: {
            ...good.chains[0]!.contracts,
            sponsorPaymaster: good.chains[0]!.contracts.accountFactory,
          },
        },
        { ...good.chains[0], id: 3 },
      ],
    }),
  )
  const [withService, withSponsor, bare] = config.chains
  const dapp = { paymasterService: { url: 'https://dapp.example.org/pm' } }
  expect(gasPayer(withService!, dapp)).toEqual({ kind: 'service', url: 'https://dapp.example.org/pm' })
  expect(gasPayer(withService!)).toEqual({ kind: 'service', url: 'https://pm.example.org/rpc' })
  expect(gasPayer(withSponsor!)).toEqual({
    kind: 'sponsor',
    address: good.chains[0]!.contracts.accountFactory,
  })
  expect(gasPayer(bare!)).toEqual({ kind: 'account' })
  await expect(
    loadConfig(respond(200, { ...good, chains: [{ ...good.chains[0], paymasterServiceUrl: 'not a url' }] })),
  ).rejects.toThrow(/paymasterServiceUrl|URL/i)
})

test('error: a token list is bounded and checked', async () => {
  const token = { address: '0x0000000000000000000000000000000000000002', name: 'T', symbol: 'T', decimals: 6 }
  const { config } = await loadConfig(
    respond(200, { ...good, chains: [{ ...good.chains[0], tokens: [token] }] }),
  )
  expect(config.chains[0]?.tokens).toEqual([token])
  const many = Array.from({ length: 101 }, () => token)
  await expect(
    loadConfig(respond(200, { ...good, chains: [{ ...good.chains[0], tokens: many }] })),
  ).rejects.toThrow(InvalidConfigError)
  await expect(
    loadConfig(
      respond(200, { ...good, chains: [{ ...good.chains[0], tokens: [{ ...token, decimals: 99 }] }] }),
    ),
  ).rejects.toThrow(InvalidConfigError)
})

test('behavior: a chain names the block its contracts were deployed in, where every log read starts', async () => {
  const chain = { ...good.chains[0]!, fromBlock: 19_000_000 }
  const { config } = await loadConfig(respond(200, { ...good, chains: [chain] }))
  expect(logsFrom(config.chains[0]!)).toBe(19_000_000n)
  expect(logsFrom(defaultConfig().chains[0]!)).toBe(0n)
  await expect(loadConfig(respond(200, { ...good, chains: [{ ...chain, fromBlock: -1 }] }))).rejects.toThrow(
    InvalidConfigError,
  )
})
