import { deployments } from '@sso/contracts-abi'
import { expect, test } from 'vitest'
import { defaultConfig, InvalidConfigError, loadConfig } from './config'

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

test('behavior: a missing file falls back to the devnet defaults and the manifest', async () => {
  const { config, source } = await loadConfig(respond(404, 'not found'))
  expect(source).toBe('defaults')
  expect(config).toEqual(defaultConfig())
  expect(config.chains[0]?.contracts.accountFactory).toBe(deployments[31337].accountFactory)
  const failing = (async () => {
    throw new TypeError('network')
  }) as unknown as typeof fetch
  expect((await loadConfig(failing)).source).toBe('defaults')
})

test('error: a file of the wrong shape is an InvalidConfigError naming the field', async () => {
  const bad = { ...good, chains: [{ ...good.chains[0], contracts: { entryPoint: '0x1234' } }] }
  await expect(loadConfig(respond(200, bad))).rejects.toThrow(InvalidConfigError)
  await expect(loadConfig(respond(200, bad))).rejects.toThrow(/entryPoint|address/i)
  await expect(loadConfig(respond(200, { ...good, chains: [] }))).rejects.toThrow(InvalidConfigError)
})
