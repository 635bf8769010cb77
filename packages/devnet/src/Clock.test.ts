import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { toSsoAccount } from '@sso/client/account'
import {
  allowance,
  createMemoryKeyStore,
  createSecp256k1SessionSigner,
  encodeSessionSpec,
  lifetime,
  type SessionSpec,
  sessionKeyValidatorAbi,
  toSessionAccount,
  transferPolicy,
} from '@sso/client/session'
import { createTestPasskey } from '@sso/client/testing'
import {
  type Address,
  createPublicClient,
  defineChain,
  encodeFunctionData,
  http,
  type PublicClient,
  parseEther,
} from 'viem'
import { createBundlerClient, type SmartAccount } from 'viem/account-abstraction'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ChainClock, chainNow, increaseTime, resetTime } from './Clock.js'
import { InvalidOptionError } from './Errors.js'
import { type Stack, startStack } from './Stack.js'

const preload = fileURLToPath(new URL('./internal/chain-clock.mjs', import.meta.url))

/** Runs `script` in a node with Alto's clock preload and the offset file `file`; returns its JSON output. */
function withPreload(file: string, script: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', preload, '--input-type=module', '-e', script], {
    env: { ...process.env, SSO_DEVNET_CLOCK_FILE: file },
    encoding: 'utf8',
  })
  return JSON.parse(out) as Record<string, unknown>
}

describe('the clock preload', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-clock-test-'))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  const script = `console.log(JSON.stringify({
    now: Date.now(), date: new Date().getTime(), string: Date(), fixed: new Date(0).getTime(),
    isDate: new Date() instanceof Date, parse: Date.parse('1970-01-01T00:00:01Z'), utc: Date.UTC(1970, 0, 1),
  }))`

  test('behavior: shifts Date.now() and new Date() by the file offset, leaves explicit dates alone', () => {
    const file = path.join(dir, 'clock.json')
    fs.writeFileSync(file, JSON.stringify({ offsetMs: 3_600_000 }))
    const before = Date.now()
    const result = withPreload(file, script)
    const after = Date.now()
    for (const key of ['now', 'date'] as const) {
      expect(result[key]).toBeGreaterThanOrEqual(before + 3_600_000)
      expect(result[key]).toBeLessThanOrEqual(after + 3_600_000)
    }
    expect(new Date(result.string as string).getTime()).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000 + 3_600_000,
    )
    expect(result).toMatchObject({ fixed: 0, isDate: true, parse: 1000, utc: 0 })
  })

  test('behavior: no file or a bad file means no offset', () => {
    const bad = path.join(dir, 'bad.json')
    fs.writeFileSync(bad, '{"offsetMs": "soon"}')
    for (const file of [path.join(dir, 'missing.json'), bad]) {
      const before = Date.now()
      const result = withPreload(file, script)
      expect(result.now).toBeGreaterThanOrEqual(before)
      expect(result.now).toBeLessThanOrEqual(Date.now())
    }
  })
})

describe('time travel on a running stack', () => {
  let stack: Stack
  let client: PublicClient
  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
    const chain = defineChain({
      id: stack.chainId,
      name: 'SSO Devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    })
    client = createPublicClient({ chain, transport: http(stack.rpcUrl), pollingInterval: 50 })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const rpc = (method: string, params: unknown[]) => client.request({ method, params } as never)

  test('behavior: after increaseTime Alto accepts and bundles userOps whose validity window starts hours after the wall clock', async () => {
    const { accountFactory, webAuthnValidator, sessionKeyValidator } = stack.contracts
    if (!accountFactory || !webAuthnValidator || !sessionKeyValidator) throw new Error('contracts missing')
    const bundler = createBundlerClient({ client, transport: http(stack.bundlerUrl), pollingInterval: 50 })
    const send = async (
      account: SmartAccount,
      calls: { to: Address; value?: bigint; data?: `0x${string}` }[],
    ) => {
      const hash = await bundler.sendUserOperation({ account, calls })
      return bundler.waitForUserOperationReceipt({ hash, timeout: 30_000 })
    }

    const passkey = createTestPasskey()
    const owner = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory, webAuthnValidator },
    })
    await rpc('anvil_setBalance', [owner.address, `0x${parseEther('10').toString(16)}`])
    const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
    const start = Number((await client.getBlock({ blockTag: 'latest' })).timestamp)
    const friend: Address = '0x000000000000000000000000000000000000F00D'
    // ETH to a friend under an hourly allowance: a session userOp is valid from the start of its hour (chain time).
    const spec: SessionSpec = {
      signer: signer.publicKey,
      expiresAt: start + 4 * 3600,
      feeLimit: lifetime(parseEther('1')),
      callPolicies: [],
      transferPolicies: [
        transferPolicy({ target: friend, maxValuePerUse: 1000n, valueLimit: allowance(1000n, 3600) }),
      ],
    }
    const create = encodeFunctionData({
      abi: sessionKeyValidatorAbi,
      functionName: 'createSession',
      args: [encodeSessionSpec(spec)],
    })
    expect((await send(owner, [{ to: sessionKeyValidator, data: create }])).success).toBe(true)
    const session = await toSessionAccount({
      client,
      address: owner.address,
      spec,
      signer,
      validator: sessionKeyValidator,
    })

    // anvil alone into the hour after next (10 minutes in): the op's window starts at least an hour after Alto's
    // wall clock, so Alto refuses it.
    const hour = Math.floor(Date.now() / 1000 / 3600) * 3600
    const seconds = hour + 2 * 3600 + 600 - Number((await client.getBlock({ blockTag: 'latest' })).timestamp)
    expect(seconds).toBeGreaterThanOrEqual(3600)
    await rpc('evm_increaseTime', [seconds])
    await rpc('evm_mine', [])
    const chainNow = Number((await client.getBlock({ blockTag: 'latest' })).timestamp)
    const validAfter = Math.floor(chainNow / 3600) * 3600
    expect(validAfter).toBeGreaterThan(Date.now() / 1000 + 3000)
    await expect(send(session, [{ to: friend, value: 1n }])).rejects.toThrow(/not valid yet/)

    // increaseTime brings Alto's clock along (0 more seconds: it syncs with anvil's offset).
    expect(await stack.increaseTime(0)).toBeGreaterThanOrEqual(chainNow)
    expect(JSON.parse(fs.readFileSync(stack.clock.clockFile, 'utf8'))).toEqual({
      offsetMs: Number(await rpc('evm_increaseTime', [0])) * 1000,
    })
    const receipt = await send(session, [{ to: friend, value: 1n }])
    expect(receipt.success).toBe(true)
    expect(
      Number((await client.getBlock({ blockNumber: receipt.receipt.blockNumber })).timestamp),
    ).toBeGreaterThanOrEqual(validAfter)

    // Another hour: the next period's window, again after the wall clock.
    const later = await stack.increaseTime(3600)
    expect(later).toBeGreaterThanOrEqual(chainNow + 3600)
    expect(Math.floor(later / 3600) * 3600).toBeGreaterThan(Date.now() / 1000 + 6600)
    expect((await send(session, [{ to: friend, value: 1000n }])).success).toBe(true)
    expect(await client.getBalance({ address: friend })).toBe(1001n)

    // Back on the wall clock, anvil and Alto together.
    const reset = await stack.resetTime()
    expect(Math.abs(reset - Date.now() / 1000)).toBeLessThan(3)
    expect(Math.abs(Number(await rpc('evm_increaseTime', [0])))).toBeLessThanOrEqual(1)
    const { offsetMs } = JSON.parse(fs.readFileSync(stack.clock.clockFile, 'utf8')) as { offsetMs: number }
    expect(Math.abs(offsetMs)).toBeLessThanOrEqual(1000)
  })

  test('error: bad seconds, an unknown chain or a clock without a file are refused with InvalidOptionError', async () => {
    for (const seconds of [-1, 1.5, Number.NaN]) {
      await expect(stack.increaseTime(seconds)).rejects.toThrow(InvalidOptionError)
    }
    await expect(stack.increaseTime(1, 1)).rejects.toThrow(/No chain 1 in this stack/)
    await expect(resetTime({ rpcUrl: stack.rpcUrl } as ChainClock)).rejects.toThrow(InvalidOptionError)
    await expect(increaseTime({ rpcUrl: stack.rpcUrl, clockFile: '' }, 1)).rejects.toThrow(InvalidOptionError)
  })
})

test('behavior: chainNow is the wall clock plus the travelled offset; no file means no offset', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-clock-'))
  const file = path.join(dir, 'clock.json')
  const wall = () => Math.floor(Date.now() / 1000)
  expect(Math.abs(chainNow(file) - wall())).toBeLessThanOrEqual(1)
  fs.writeFileSync(file, JSON.stringify({ offsetMs: 86_400_000 }))
  expect(Math.abs(chainNow(file) - (wall() + 86_400))).toBeLessThanOrEqual(1)
  fs.writeFileSync(file, 'not json')
  expect(Math.abs(chainNow(file) - wall())).toBeLessThanOrEqual(1)
  fs.rmSync(dir, { recursive: true, force: true })
})
