import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sponsorPaymasterAbi } from '@sso/contracts-abi'
import { type Address, createPublicClient, type Hex, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { anvilCommand } from './internal/binaries.js'
import { type Child, spawnChild, waitHealthy } from './internal/Child.js'
import { freePorts } from './internal/ports.js'
import { deploymentBlock, planDeployment, verifyDeployment } from './Operator.js'

/**
 * `pnpm deploy:contracts` as an operator runs it: against plain anvils with chain ids the project never used, no
 * contracts, a key of its own (anvil #7; #0 is the devnets' owner).
 */
const operatorKey: Hex = '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356'
const operator = privateKeyToAccount(operatorKey)
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-operator-'))
const children: Child[] = []

async function plainAnvil(chainId: number, hardfork: string): Promise<string> {
  const [port] = await freePorts(1)
  const anvil = anvilCommand()
  const child = spawnChild({
    name: `anvil-${chainId}`,
    command: anvil.command,
    args: [
      ...anvil.args,
      '--hardfork',
      hardfork,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--chain-id',
      String(chainId),
    ],
    logDir,
  })
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  const client = createPublicClient({ transport: http(url) })
  await waitHealthy(child, async () => (await client.getChainId()) === chainId, {
    timeoutMs: 15_000,
    what: 'anvil',
  })
  return url
}

let osaka: string
let prague: string
beforeAll(async () => {
  ;[osaka, prague] = await Promise.all([plainAnvil(7357, 'osaka'), plainAnvil(7358, 'prague')])
}, 60_000)
afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()))
})

const nonceOf = (url: string, address: Address) =>
  createPublicClient({ transport: http(url) }).getTransactionCount({ address })

test('behavior: an empty chain gets the EntryPoint, our contracts, the stakes and the deposit; a second run changes nothing', async () => {
  const serviceSigner: Address = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720'
  const options = {
    rpcUrl: osaka,
    account: operator,
    stake: true,
    paymasterDeposit: 10n ** 18n,
    paymasterSigner: serviceSigner,
  }
  const plan = await planDeployment(options)
  expect(plan.chainId).toBe(7357)
  expect(plan.p256Precompile).toBe(true)
  expect(plan.owner).toBe(operator.address)
  const steps = plan.steps.map((step) => step.what)
  expect(steps[0]).toMatch(/^deploy the EntryPoint v0\.8/)
  for (const name of [
    'WebAuthnValidator',
    'SessionKeyValidator',
    'GuardianExecutor',
    'SsoAccount',
    'AccountFactory',
    'SponsorPaymaster',
  ])
    expect(steps).toContainEqual(expect.stringMatching(new RegExp(`^deploy ${name} at 0x`)))
  expect(steps.filter((what) => what.startsWith('stake'))).toHaveLength(2)
  expect(steps.at(-2)).toMatch(/deposit up from 0 to 1 ETH/)
  expect(steps.at(-1)).toBe(`make ${serviceSigner} the SponsorPaymaster's verifying signer`)
  expect(plan.warnings.join('\n')).not.toMatch(/no verifying signer/)
  // Planning (the dry run) sends nothing.
  expect(await nonceOf(osaka, operator.address)).toBe(0)
  await expect(verifyDeployment(osaka, plan)).rejects.toThrow(/No code after the deployment/)

  const before = await createPublicClient({ transport: http(osaka) }).getBlockNumber({ cacheTime: 0 })
  for (const step of plan.steps) await step.run()
  await verifyDeployment(osaka, plan)
  // The manifest's fromBlock: the block of our first contract, after the EntryPoint's (the first step).
  const first = await deploymentBlock(osaka, plan)
  expect(first).toBeGreaterThan(Number(before) + 1)
  expect(
    await createPublicClient({ transport: http(osaka) }).getCode({
      address: plan.addresses.webAuthnValidator!,
      blockNumber: BigInt(first! - 1),
    }),
  ).toBeUndefined()
  const sent = await nonceOf(osaka, operator.address)
  expect(sent).toBeGreaterThanOrEqual(plan.steps.length)

  const again = await planDeployment(options)
  expect(again.steps).toEqual([])
  expect(
    await createPublicClient({ transport: http(osaka) }).readContract({
      address: plan.addresses.sponsorPaymaster!,
      abi: sponsorPaymasterAbi,
      functionName: 'verifyingSigner',
    }),
  ).toBe(serviceSigner)
  // A later run without the flag keeps the signer (and has nothing to warn about).
  const { paymasterSigner: _, ...unsigned } = options
  expect((await planDeployment(unsigned)).warnings.join('\n')).not.toMatch(/no verifying signer/)
  expect(again.addresses).toEqual(plan.addresses)
  expect(await nonceOf(osaka, operator.address)).toBe(sent)
}, 180_000)

test('behavior: the validators and the account implementation have the devnet addresses; the owned contracts follow their owner; no demo token', async () => {
  const { deployments } = await import('@sso/contracts-abi')
  const devnet = (deployments as Record<number, Record<string, Address>>)[31337]!
  const mine = await planDeployment({ rpcUrl: osaka, account: operator })
  const devnetOwned = await planDeployment({
    rpcUrl: osaka,
    account: operator,
    owner: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  })
  for (const key of [
    'entryPoint',
    'webAuthnValidator',
    'sessionKeyValidator',
    'guardianExecutor',
    'ssoAccount',
  ])
    expect(mine.addresses[key], key).toBe(devnet[key])
  // The devnet's demo token (a faucet) is never deployed to a real chain.
  const { demoToken, ...wallet } = devnet
  expect(demoToken).toMatch(/^0x[0-9a-fA-F]{40}$/)
  expect(devnetOwned.addresses).toEqual(wallet)
  expect(devnetOwned.steps.map((step) => step.what).join('\n')).not.toContain('DemoToken')
  expect(mine.addresses.accountFactory).not.toBe(devnet.accountFactory)
})

test('behavior: stakes another owner must make are warnings with the call to make, not steps', async () => {
  const plan = await planDeployment({
    rpcUrl: prague,
    account: operator,
    owner: '0x000000000000000000000000000000000000dEaD',
    stake: true,
  })
  expect(plan.steps.some((step) => step.what.startsWith('stake'))).toBe(false)
  expect(plan.warnings).toContainEqual(
    expect.stringMatching(
      /AccountFactory is owned by 0x000000000000000000000000000000000000dEaD.*addStake\(86400\) with 1 ETH/,
    ),
  )
  // Without --paymaster-signer the operator is told the paymaster would pay for anything.
  expect(plan.warnings).toContainEqual(
    expect.stringMatching(/SponsorPaymaster has no verifying signer: it pays for every userOp/),
  )
})

test('behavior: a chain without the P-256 precompile is reported with its cost', async () => {
  const plan = await planDeployment({ rpcUrl: prague, account: operator })
  expect(plan.p256Precompile).toBe(false)
  expect(plan.warnings).toContainEqual(
    expect.stringMatching(/no P-256 precompile .* ~250,000 gas more per passkey operation/),
  )
})

test('error: the command takes no key from its flags, and without SSO_DEPLOYER_KEY off a terminal it stops', () => {
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), 'deployCli.ts')
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      input: '',
    })
  const noKey = run(['--rpc-url', osaka, '--dry-run'], { SSO_DEPLOYER_KEY: '' })
  expect(noKey.status).toBe(1)
  expect(noKey.stderr).toContain('No deployer key: set SSO_DEPLOYER_KEY')
  const keyFlag = run(['--rpc-url', osaka, '--private-key', operatorKey], { SSO_DEPLOYER_KEY: operatorKey })
  expect(keyFlag.status).toBe(1)
  expect(keyFlag.stderr).toMatch(/Unknown option '--private-key'/)
  const badOwner = run(['--rpc-url', osaka, '--owner', 'nobody'], { SSO_DEPLOYER_KEY: operatorKey })
  expect(badOwner.status).toBe(1)
  expect(badOwner.stderr).toContain('--owner is not an address: nobody')
}, 60_000)
