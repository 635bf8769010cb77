import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import {
  altoService,
  anvilService,
  devnetSponsorshipPolicy,
  type ManagedService,
  type StaticServer,
  startPaymasterService,
  startStaticServer,
} from '@sso/devnet'
import {
  type Address,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  parseEther,
} from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import {
  expectClosed,
  expectRequest,
  fillSend,
  hashPattern,
  openDemo,
  readHex,
  signUp,
} from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import type { StackInfo } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

// This file's own synced passkeys: each spec file is a user of its own.
const syncedPasskeys = new PasskeyStore()

/**
 * docs/deploy.md as an operator runs it: a plain anvil with a chain id the project never used and no contracts,
 * `pnpm deploy:contracts` against it (twice: the second run changes nothing), the auth server's build given that
 * chain (its `sso-config.json`, its `connect-src`), served with the documented headers, and a dapp signing up,
 * sending and using a session through it. Nothing here comes from the devnet's manifest.
 */

const chainId = 424_242
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const friend: Address = '0x000000000000000000000000000000000000F00D'

type Manifest = {
  chainId: number
  owner: Address
  p256Precompile: boolean
  fromBlock: number
  contracts: Record<string, Address>
}

const dir = mkdtempSync(join(tmpdir(), 'sso-operator-'))
const manifestFile = join(dir, 'deployments', `${chainId}.json`)
const services: ManagedService[] = []
const servers: StaticServer[] = []
const closers: (() => Promise<void>)[] = []
let rpcUrl: string
let deployment: StackInfo
let device: Device
let page: Page

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** `pnpm deploy:contracts …` from the repository root, with the key in the environment as docs/deploy.md says. */
function deployCommand(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['--silent', 'deploy:contracts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, SSO_DEPLOYER_KEY: deployerKeyHex },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
const deployerKeyHex: Hex = generatePrivateKey()
const deployerAccount = privateKeyToAccount(deployerKeyHex)
/** The operator's ERC-7677 paymaster service key: the SponsorPaymaster's verifying signer (docs/paymaster.md). */
const serviceKey: Hex = generatePrivateKey()
const serviceSigner = privateKeyToAccount(serviceKey)

const chain = defineChain({
  id: chainId,
  name: 'Operator test chain',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1'] } },
})
const client = () => createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 100 })

test.describe.configure({ mode: 'serial' })

test.beforeAll(async () => {
  const port = await freePort()
  const anvil = anvilService({ chainId, port, logDir: dir, suffix: '-operator', onDeath: () => {} })
  services.push(anvil)
  await anvil.start()
  rpcUrl = anvil.url
  // The operator's own key, funded like any account (not one of anvil's dev keys).
  await createTestClient({ mode: 'anvil', chain, transport: http(rpcUrl) }).setBalance({
    address: deployerAccount.address,
    value: parseEther('100'),
  })
})

test.afterAll(async () => {
  await device?.context.close()
  await Promise.all([
    ...servers.map((server) => server.close()),
    ...closers.map((close) => close()),
    ...services.map((s) => s.shutdown()),
  ])
  rmSync(dir, { recursive: true, force: true })
})

test('behavior: a dry run lists every step and sends nothing', async () => {
  const nonceBefore = await client().getTransactionCount({ address: deployerAccount.address })
  const { code, stderr } = await deployCommand(
    '--rpc-url',
    rpcUrl,
    '--stake',
    '--paymaster-deposit',
    '5',
    '--dry-run',
  )
  expect(code, stderr).toBe(0)
  expect(stderr).toContain(`chain ${chainId}`)
  expect(stderr).toContain('P-256 precompile: present')
  for (const what of [
    'EntryPoint v0.8',
    'AccountFactory',
    'WebAuthnValidator',
    'SessionKeyValidator',
    'SponsorPaymaster',
  ])
    expect(stderr).toMatch(new RegExp(`would .*${what}`))
  expect(stderr).not.toContain('DemoToken')
  expect(stderr).toContain('dry run: nothing was sent')
  expect(await client().getTransactionCount({ address: deployerAccount.address })).toBe(nonceBefore)
})

test('behavior: the deploy command deploys, stakes, funds, verifies and writes the manifest', async () => {
  const { code, stdout, stderr } = await deployCommand(
    '--rpc-url',
    rpcUrl,
    '--stake',
    '--paymaster-deposit',
    '5',
    '--paymaster-signer',
    serviceSigner.address,
    '--manifest',
    manifestFile,
  )
  expect(code, stderr).toBe(0)
  expect(stderr).toContain('verified: code at every address')
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest
  expect(JSON.parse(stdout)).toEqual(manifest)
  expect(manifest).toMatchObject({ chainId, owner: deployerAccount.address, p256Precompile: true })
  // Where logs of our accounts can start: after the EntryPoint's block on this fresh chain, never genesis.
  expect(manifest.fromBlock).toBeGreaterThan(1)
  expect(
    await client().getCode({
      address: manifest.contracts.webAuthnValidator!,
      blockNumber: BigInt(manifest.fromBlock - 1),
    }),
  ).toBeUndefined()
  expect(Object.keys(manifest.contracts).sort()).toEqual(
    [
      'accountFactory',
      'allowanceExecutor',
      'entryPoint',
      'guardianExecutor',
      'sessionKeyValidator',
      'sponsorPaymaster',
      'ssoAccount',
      'webAuthnValidator',
    ].sort(),
  )
  for (const [name, address] of Object.entries(manifest.contracts)) {
    const code = await client().getCode({ address })
    expect(code?.length ?? 0, name).toBeGreaterThan(2)
  }
})

test('behavior: a second run plans nothing and sends nothing', async () => {
  const manifestBefore = readFileSync(manifestFile, 'utf8')
  const nonceBefore = await client().getTransactionCount({ address: deployerAccount.address })
  const { code, stderr } = await deployCommand(
    '--rpc-url',
    rpcUrl,
    '--stake',
    '--paymaster-deposit',
    '5',
    '--paymaster-signer',
    serviceSigner.address,
    '--manifest',
    manifestFile,
  )
  expect(code, stderr).toBe(0)
  expect(stderr).toContain('nothing to do: everything is deployed')
  expect(await client().getTransactionCount({ address: deployerAccount.address })).toBe(nonceBefore)
  expect(readFileSync(manifestFile, 'utf8')).toBe(manifestBefore)
})

test('behavior: the auth server built for this chain is served with the documented headers', async () => {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest
  const bundlerPort = await freePort()
  const bundler = altoService({
    rpcUrl,
    port: bundlerPort,
    logDir: dir,
    clockFile: join(dir, 'clock.json'),
    suffix: '-operator',
    onDeath: () => {},
  })
  services.push(bundler)
  await bundler.start()
  const [authPort, demoPort] = [await freePort(), await freePort()]
  const authServerUrl = `http://localhost:${authPort}`
  const demoUrl = `http://localhost:${demoPort}`
  // The operator's service sponsors its own wallet (sign-up, dashboard) and its demo, nobody else.
  const paymasterService = await startPaymasterService({
    port: await freePort(),
    chainId,
    paymaster: manifest.contracts.sponsorPaymaster!,
    signerKey: serviceKey,
    policy: { ...devnetSponsorshipPolicy, apps: [authServerUrl, demoUrl] },
  })
  closers.push(paymasterService.close)

  // The operator's sites: copies of the builds, the auth server's headers computed for this chain's endpoints
  // only, and each site's sso-config.json (docs/deploy.md, "The auth server").
  const authRoot = join(dir, 'auth-server')
  const demoRoot = join(dir, 'demo')
  cpSync(join(repoRoot, 'apps/auth-server/.output/public'), authRoot, { recursive: true })
  cpSync(join(repoRoot, 'apps/demo/dist'), demoRoot, { recursive: true })
  await runNode(['apps/auth-server/scripts/security-headers.mjs', authRoot], {
    SSO_CONNECT_SRC: `${rpcUrl} ${bundler.url} ${paymasterService.url}`,
  })
  const config = {
    authServerUrl,
    chains: [
      {
        id: chainId,
        name: 'Operator chain',
        rpcUrl,
        bundlerUrl: bundler.url,
        paymasterServiceUrl: paymasterService.url,
        contracts: manifest.contracts,
        fromBlock: manifest.fromBlock,
      },
    ],
  }
  for (const root of [authRoot, demoRoot])
    writeFileSync(join(root, 'sso-config.json'), JSON.stringify(config))
  servers.push(await startStaticServer({ root: authRoot, port: authPort }))
  servers.push(await startStaticServer({ root: demoRoot, port: demoPort }))
  deployment = {
    chainId,
    rpcUrl,
    bundlerUrl: bundler.url,
    demoUrl,
    authServerUrl,
    backupAuthServerUrl: authServerUrl,
    contracts: manifest.contracts,
    chains: [{ ...config.chains[0]!, clockFile: join(dir, 'clock.json') }],
    logDir: dir,
  }

  const response = await fetch(`${authServerUrl}/dashboard`)
  expect(response.status).toBe(200)
  const csp = response.headers.get('content-security-policy') ?? ''
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).toContain(`connect-src 'self' ${rpcUrl} ${bundler.url} ${paymasterService.url}`)
  expect(csp).not.toContain('https:')
  expect(response.headers.get('x-frame-options')).toBe('DENY')
  expect(await (await fetch(`${authServerUrl}/sso-config.json`)).json()).toEqual(config)
})

test('behavior: a dapp signs up, sends and uses a session through the deployment', async ({ browser }) => {
  test.setTimeout(180_000)
  device = await newDevice(browser, syncedPasskeys)
  page = await device.context.newPage()
  await openDemo(page, deployment)
  const { address } = await signUp(device, page, deployment)
  const paidBefore = await sponsorDeposit()
  // The account is this deployment's: deployed by its factory on this chain.
  await expect.poll(async () => (await client().getCode({ address }))?.length ?? 0).toBeGreaterThan(2)
  await createTestClient({ mode: 'anvil', chain, transport: http(rpcUrl) }).setBalance({
    address,
    value: parseEther('1'),
  })

  await fillSend(page, friend, '0.0123')
  const popup = await clickForPopup(device, page, 'send-eth')
  await expectRequest(popup, deployment, 'eth_sendTransaction')
  await popup.getByTestId('approve').click()
  await expectClosed(popup)
  const hash = await readHex(page.getByTestId('tx-hash'), hashPattern)
  expect((await client().waitForTransactionReceipt({ hash })).status).toBe('success')
  expect(await client().getBalance({ address: friend })).toBe(parseEther('0.0123'))
  // The operator's paymaster paid for it (its deposit went down), on its service's signature.
  expect(await sponsorDeposit()).toBeLessThan(paidBefore)

  // A session: granted with the passkey, then an ETH transfer within it with no popup.
  await page.getByTestId('session-token').fill(await deployToken())
  const grant = await clickForPopup(device, page, 'session-request')
  await expectRequest(grant, deployment, 'wallet_grantPermissions')
  await grant.getByTestId('approve').click()
  await expectClosed(grant, 60_000)
  await readHex(page.getByTestId('session-id'), hashPattern)
  let popups = 0
  device.context.on('page', () => popups++)
  await page.getByTestId('session-send-amount').fill('0.01')
  await page.getByTestId('session-send-eth').click()
  await expect(page.getByTestId('session-busy')).toHaveText('', { timeout: 30_000 })
  await expect(page.getByTestId('session-error')).toHaveText('')
  const sessionHash = await readHex(page.getByTestId('session-result'), hashPattern)
  expect((await client().waitForTransactionReceipt({ hash: sessionHash })).status).toBe('success')
  expect(popups).toBe(0)
  expect(await client().getBalance({ address: friend })).toBe(parseEther('0.0223'))
  // The build's connect-src names only this chain's RPC and bundler: nothing else was asked for.
  expect(device.cspViolations).toEqual([])
})

async function sponsorDeposit(): Promise<bigint> {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest
  return client().readContract({
    address: manifest.contracts.entryPoint!,
    abi: entryPoint08Abi,
    functionName: 'balanceOf',
    args: [manifest.contracts.sponsorPaymaster!],
  })
}

function runNode(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} exited ${code}`)),
    )
  })
}

/** An ERC-20 for the demo's session form (OpenZeppelin's, from the contracts' test artifacts). */
async function deployToken(): Promise<Address> {
  const artifact = JSON.parse(
    readFileSync(join(repoRoot, 'packages/contracts/out/Mocks.sol/MockERC20.json'), 'utf8'),
  ) as { bytecode: { object: Hex }; abi: unknown[] }
  const wallet = createWalletClient({ account: deployerAccount, chain, transport: http(rpcUrl) })
  const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode.object })
  return (await client().waitForTransactionReceipt({ hash })).contractAddress!
}
