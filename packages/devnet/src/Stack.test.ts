import * as net from 'node:net'
import { demoTokenAbi, entryPoint08 } from '@sso/contracts-abi'
import { type Address, createPublicClient, createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { entityStake } from './Deploy.js'
import { readStake } from './Erc7562.js'
import { InvalidOptionError, PortInUseError } from './Errors.js'
import { defaultMinStake, defaultMinUnstakeDelay } from './internal/erc7562/rules.js'
import { isListening } from './internal/ports.js'
import { anvilKeys, type Stack, startStack } from './Stack.js'

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const json = (await response.json()) as { result?: unknown; error?: unknown }
  if (json.error) throw new Error(JSON.stringify(json.error))
  return json.result
}

describe('chain and bundler only', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  test('behavior: anvil answers with chain id 31337', async () => {
    expect(stack.chainId).toBe(31337)
    expect(await rpc(stack.rpcUrl, 'eth_chainId')).toBe('0x7a69')
  })

  test('behavior: the EntryPoint v0.8 has code at its canonical address', async () => {
    const client = createPublicClient({ transport: http(stack.rpcUrl) })
    expect(stack.contracts.entryPoint).toBe(entryPoint08.address)
    const code = await client.getCode({ address: entryPoint08.address })
    expect(code?.length ?? 0).toBeGreaterThan(1000)
  })

  test('behavior: Alto supports the EntryPoint', async () => {
    const entryPoints = (await rpc(stack.bundlerUrl, 'eth_supportedEntryPoints')) as string[]
    expect(entryPoints.map((address) => address.toLowerCase())).toContain(entryPoint08.address.toLowerCase())
  })

  test('behavior: every deployed contract has code and the sponsor paymaster has a deposit', async () => {
    const client = createPublicClient({ transport: http(stack.rpcUrl) })
    const entries = Object.entries(stack.contracts) as [string, Address][]
    expect(entries.length).toBeGreaterThan(1)
    for (const [, address] of entries) {
      const code = await client.getCode({ address })
      expect(code && code !== '0x').toBe(true)
    }
    if (stack.contracts.sponsorPaymaster) {
      const deposit = (await rpc(stack.rpcUrl, 'eth_call', [
        {
          to: entryPoint08.address,
          // balanceOf(address)
          data: `0x70a08231${stack.contracts.sponsorPaymaster.slice(2).toLowerCase().padStart(64, '0')}`,
        },
        'latest',
      ])) as string
      expect(BigInt(deposit)).toBeGreaterThan(0n)
    }
  })

  test('behavior: the AccountFactory and the SponsorPaymaster are staked as public bundlers require (ERC-7562)', async () => {
    const client = createPublicClient({ transport: http(stack.rpcUrl) })
    for (const address of [stack.contracts.accountFactory, stack.contracts.sponsorPaymaster]) {
      if (!address) throw new Error('AccountFactory / SponsorPaymaster not deployed')
      const stake = await readStake(client, { address })
      expect(stake).toMatchObject({
        locked: true,
        stake: entityStake.value,
        unstakeDelaySec: entityStake.unstakeDelaySec,
        staked: true,
      })
    }
    // What the devnet stakes meets the defaults of the ERC-7562 check.
    expect(entityStake.value).toBe(defaultMinStake)
    expect(entityStake.unstakeDelaySec).toBe(defaultMinUnstakeDelay)
  })

  test('behavior: the config lists the chain with its URLs and contracts', () => {
    expect(stack.config.chains).toEqual([
      {
        id: 31337,
        name: 'SSO Devnet',
        rpcUrl: stack.rpcUrl,
        bundlerUrl: stack.bundlerUrl,
        paymasterServiceUrl: `http://127.0.0.1:${stack.ports.paymaster}`,
        contracts: stack.contracts,
        tokens: [{ address: stack.contracts.demoToken, name: 'Demo Dollar', symbol: 'DUSD', decimals: 6 }],
      },
    ])
    expect(stack.config.authServerUrl).toBe(stack.authServerUrl)
  })

  test('behavior: the demo token is an ERC-20 anyone mints from', async () => {
    const client = createPublicClient({ transport: http(stack.rpcUrl) })
    const wallet = createWalletClient({ transport: http(stack.rpcUrl) })
    const token = stack.contracts.demoToken!
    expect(await client.readContract({ address: token, abi: demoTokenAbi, functionName: 'decimals' })).toBe(6)
    const holder = '0x000000000000000000000000000000000000bEEF'
    const hash = await wallet.writeContract({
      account: privateKeyToAccount(anvilKeys[0]),
      chain: null,
      address: token,
      abi: demoTokenAbi,
      functionName: 'mint',
      args: [holder, 5_000_000n],
    })
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success')
    expect(
      await client.readContract({
        address: token,
        abi: demoTokenAbi,
        functionName: 'balanceOf',
        args: [holder],
      }),
    ).toBe(5_000_000n)
  })

  test('behavior: Alto listens on the loopback interface only', async () => {
    const { port } = new URL(stack.bundlerUrl)
    // 127.0.0.2 is loopback too but not the address Alto was told to bind.
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port: Number(port), host: '127.0.0.2' })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    expect(reachable).toBe(false)
  })
})

test('behavior: after stop() nothing listens on the ports', async () => {
  const stack = await startStack({ ports: 'auto', web: 'none', quiet: true, contracts: false })
  const ports = [stack.ports.rpc, stack.ports.bundler]
  for (const port of ports) expect(await isListening(port)).toBe(true)
  await stack.stop()
  for (const port of ports) expect(await isListening(port)).toBe(false)
})

test('behavior: a second chain 31338 gets the same contracts at the same addresses', async () => {
  const stack = await startStack({ ports: 'auto', web: 'none', quiet: true, secondChain: true })
  try {
    const [first, second] = stack.chains
    expect(second?.id).toBe(31338)
    expect(await rpc(second!.rpcUrl, 'eth_chainId')).toBe('0x7a6a')
    expect(second!.contracts).toEqual(first!.contracts)
    const client = createPublicClient({ transport: http(second!.rpcUrl) })
    for (const address of Object.values(second!.contracts) as Address[]) {
      const code = await client.getCode({ address })
      expect(code && code !== '0x').toBe(true)
    }
    expect(await rpc(second!.bundlerUrl, 'eth_chainId')).toBe('0x7a6a')
  } finally {
    await stack.stop()
  }
})

test('error: a port in use is named before anything starts', async () => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '127.0.0.1' }, resolve))
  const port = (blocker.address() as net.AddressInfo).port
  try {
    const started = Date.now()
    const error = await startStack({ ports: { rpc: 'auto', bundler: port }, web: 'none', quiet: true }).catch(
      (error: unknown) => error,
    )
    expect(error).toBeInstanceOf(PortInUseError)
    expect((error as PortInUseError).port).toBe(port)
    expect((error as Error).message).toContain(String(port))
    expect((error as Error).message).toContain('Alto bundler')
    // Failing before any child starts is fast.
    expect(Date.now() - started).toBeLessThan(1000)
  } finally {
    blocker.close()
  }
})

test('error: bad options are refused with InvalidOptionError before anything starts', async () => {
  const bad = [
    { ports: { rpc: 70_000 } },
    { ports: { rpc: -1 } },
    { ports: { bundlr: 4337 } },
    { portOffset: 1.5 },
    { web: 'dev' },
  ] as unknown as Parameters<typeof startStack>[0][]
  for (const options of bad) {
    await expect(startStack(options)).rejects.toBeInstanceOf(InvalidOptionError)
  }
  await expect(startStack({ ports: { rpc: 70_000 } })).rejects.toThrow('ports.rpc must be')
})

test('behavior: with web apps, both are served with /sso-config.json', async () => {
  const stack = await startStack({ ports: 'auto', web: 'static', quiet: true })
  try {
    // The backup sign-in page's host name is `backup.localhost` (browsers resolve it to loopback; Node may not).
    const backup = stack.backupAuthServerUrl.replace('//backup.localhost:', '//127.0.0.1:')
    expect(stack.config.backupAuthServerUrl).toBe(`http://backup.localhost:${stack.ports.authServerBackup}`)
    for (const url of [stack.demoUrl, stack.authServerUrl, backup]) {
      const page = await fetch(`${url}/`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toContain('text/html')
      const config = await fetch(`${url}/sso-config.json`)
      expect(await config.json()).toEqual(stack.config)
    }
    // The popup route is a client-side route: the SPA entry answers it.
    expect((await fetch(`${stack.authServerUrl}/confirm`)).status).toBe(200)
  } finally {
    await stack.stop()
  }
  expect(await isListening(stack.ports.demo)).toBe(false)
  expect(await isListening(stack.ports.authServer)).toBe(false)
  expect(await isListening(stack.ports.authServerBackup)).toBe(false)
})
