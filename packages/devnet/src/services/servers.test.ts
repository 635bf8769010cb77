import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { entryPoint08 } from '@sso/contracts-abi'
import { numberToHex } from 'viem'
import { afterEach, expect, test } from 'vitest'
import { ChildProcessError } from '../Errors.js'
import { freePorts } from '../internal/ports.js'
import type { ManagedService } from '../Service.js'
import { repoRoot, type WebApp } from '../WebApps.js'
import { paymasterService } from './paymaster.js'
import { webAppService } from './web.js'

const started: ManagedService[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.shutdown()))
})

const userOp = {
  sender: '0x1111111111111111111111111111111111111111',
  nonce: '0x0',
  callData: '0x',
  callGasLimit: numberToHex(30_000n),
  verificationGasLimit: numberToHex(50_000n),
  preVerificationGas: numberToHex(20_000n),
  maxFeePerGas: numberToHex(1_000_000_000n),
  maxPriorityFeePerGas: '0x0',
  signature: '0x',
}

test('behavior: the paymaster service stops and starts on its port and keeps what its policy counted', async () => {
  const [port] = await freePorts(1)
  const service = paymasterService({
    port: port!,
    chainId: 31337,
    paymaster: '0x0844396cCA45e4e08b16edbd81d5659A16896473',
    signerKey: '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
    policy: { apps: '*', perAccountPerDay: 10n ** 18n, perDay: 10n ** 18n, validForSeconds: 600 },
  })
  started.push(service)
  expect(service.url).toBe(`http://127.0.0.1:${port}`)
  await service.start()
  expect([service.running(), await service.health()]).toEqual([true, true])
  const response = await fetch(service.url, {
    method: 'POST',
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'pm_getPaymasterData',
      params: [userOp, entryPoint08.address, '0x7a69', {}],
    }),
  })
  const { result } = (await response.json()) as { result: { paymaster: string } }
  expect(result.paymaster).toBe('0x0844396cCA45e4e08b16edbd81d5659A16896473')
  const counted = service.sponsor.spentToday('*')
  expect(counted).toBeGreaterThan(0n)

  await service.stop()
  expect([service.running(), await service.health()]).toEqual([false, false])
  await service.start()
  expect(await service.health()).toBe(true)
  expect(service.sponsor.spentToday('*')).toBe(counted)
})

test('error: a web app whose build has no entry page fails its start and leaves nothing listening', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-web-'))
  const [port] = await freePorts(1)
  // A build with no index.html: GET / answers 404.
  const app = { name: 'demo', dir: path.relative(repoRoot, root), output: '' } as unknown as WebApp
  const service = webAppService({ app, port: port!, config: {} })
  started.push(service)
  const error = await service.start().catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ChildProcessError)
  expect((error as ChildProcessError).shortMessage).toBe(`GET / failed on http://localhost:${port}.`)
  expect([service.running(), await service.health()]).toEqual([false, false])
  fs.rmSync(root, { recursive: true, force: true })
})
