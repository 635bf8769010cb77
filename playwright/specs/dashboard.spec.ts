import type { Page } from '@playwright/test'
import { demoTokenAbi, sessionKeyValidatorAbi } from '@sso/contracts-abi'
import {
  type Address,
  createWalletClient,
  erc20Abi,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  parseUnits,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import { expectClosed, expectRequest, hashPattern, openDemo, readHex, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { publicClient, type StackChain, stackChain, testClient } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

/**
 * The dashboard as the account's home (docs/dashboard.md): real actions (the devnet faucet, sends approved with
 * the passkey, a transfer received on the second chain, a session granted in the demo and revoked here, an app
 * disconnected), each panel checked against chain state. Steps run in order, one user.
 */
test.describe.configure({ mode: 'serial' })

let device: Device
let demo: Page
let dash: Page
let account: Address
let second: StackChain
let chain2: PublicClient
let token: Address
let sessionId: Hex
const recipient = privateKeyToAccount(generatePrivateKey()).address

const entries = (page: Page, kind: string, chainId?: number) =>
  page.locator(
    `[data-testid="activity-entry"][data-kind="${kind}"]${chainId ? `[data-chain="${chainId}"]` : ''}`,
  )
const balanceOf = (client: PublicClient, owner: Address) =>
  client.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] })

test.beforeAll(async ({ browser, stack }) => {
  const found = stack.chains.find((chain) => chain.id !== stack.chainId)
  if (!found) throw new Error('the stack has no second chain (startStack({ secondChain: true }))')
  second = found
  chain2 = publicClient(stack, second)
  token = stack.contracts.demoToken!
  device = await newDevice(browser, new PasskeyStore())
  demo = await device.context.newPage()
})

test.afterAll(async () => {
  await device?.context.close()
})

test('behavior: after sign-up every panel shows the new account as the chains see it', async ({
  stack,
  chain,
}) => {
  await openDemo(demo, stack)
  account = (await signUp(device, demo, stack)).address
  dash = await device.context.newPage()
  await dash.goto(`${stack.authServerUrl}/dashboard`)
  await expect(dash.getByTestId('account-address')).toHaveText(account)

  expect(await chain.getBalance({ address: account })).toBe(0n)
  expect(await balanceOf(chain, account)).toBe(0n)
  await expect(dash.getByTestId(`asset-${stack.chainId}-ETH`)).toHaveText('0 ETH')
  await expect(dash.getByTestId(`asset-${stack.chainId}-DUSD`)).toHaveText('0 DUSD')
  await expect(dash.getByTestId(`asset-${second.id}-ETH`)).toHaveText('0 ETH')
  await expect(dash.getByTestId('receive-address')).toHaveValue(account)
  await expect(dash.getByTestId('qr-code').first()).toBeVisible()
  await expect(dash.getByTestId('activity-source')).toContainText('node logs (eth_getLogs')
  // The sign-up's deploying user operation: passkey-signed and sponsored.
  const deploy = entries(dash, 'user-operation', stack.chainId)
  await expect(deploy).toHaveCount(1)
  await expect(deploy).toContainText('Passkey transaction')
  await expect(deploy).toContainText('paid by the SponsorPaymaster')
  await expect(dash.getByTestId('sessions-empty')).toBeVisible()
  // The demo connected in this browser: the app is listed, with no session yet.
  const app = dash.locator(`[data-testid="app-row"][data-origin="${new URL(stack.demoUrl).origin}"]`)
  await expect(app).toContainText('No session.')
})

test('behavior: Fund gives test ETH and DUSD on the devnet, as real transfers the history lists', async ({
  stack,
  chain,
}) => {
  await dash.getByTestId(`fund-${stack.chainId}`).click()
  await expect(dash.getByTestId(`asset-${stack.chainId}-ETH`)).toHaveText('10 ETH')
  await expect(dash.getByTestId(`asset-${stack.chainId}-DUSD`)).toHaveText('1,000 DUSD')
  expect(await chain.getBalance({ address: account })).toBe(parseEther('10'))
  expect(await balanceOf(chain, account)).toBe(parseUnits('1000', 6))
  await expect(entries(dash, 'eth-in', stack.chainId)).toContainText('+10 ETH')
  await expect(entries(dash, 'token-in', stack.chainId)).toContainText('+1,000 DUSD')
})

test('behavior: send ETH, then DUSD, to another address with the passkey', async ({ stack, chain }) => {
  await dash.getByTestId('send-to').fill(recipient)
  await dash.getByTestId('send-amount').fill('1.5')
  await dash.getByTestId('send-submit').click()
  await expect(dash.getByTestId('send-result')).toContainText('Sent 1.5 ETH to', { timeout: 30_000 })
  expect(await chain.getBalance({ address: recipient })).toBe(parseEther('1.5'))
  // Sponsored: the account pays exactly what it sent.
  expect(await chain.getBalance({ address: account })).toBe(parseEther('8.5'))
  await expect(dash.getByTestId(`asset-${stack.chainId}-ETH`)).toHaveText('8.5 ETH')
  await expect(entries(dash, 'eth-out', stack.chainId)).toContainText('−1.5 ETH')

  await dash.getByTestId('send-asset').selectOption('DUSD')
  await dash.getByTestId('send-amount').fill('250.25')
  await dash.getByTestId('send-submit').click()
  await expect(dash.getByTestId('send-result')).toContainText('Sent 250.25 DUSD to', { timeout: 30_000 })
  expect(await balanceOf(chain, recipient)).toBe(parseUnits('250.25', 6))
  expect(await balanceOf(chain, account)).toBe(parseUnits('749.75', 6))
  await expect(dash.getByTestId(`asset-${stack.chainId}-DUSD`)).toHaveText('749.75 DUSD')
  const out = entries(dash, 'token-out', stack.chainId)
  await expect(out).toContainText('−250.25 DUSD')
  await expect(out).toContainText(`to ${recipient.slice(0, 6)}…${recipient.slice(-4)}`)
  // Deploy + two sends: three passkey user operations, newest first.
  await expect(entries(dash, 'user-operation', stack.chainId)).toHaveCount(3)
  await expect(dash.getByTestId('activity-entry').first()).toHaveAttribute(
    'data-kind',
    /user-operation|token-out/,
  )
})

test('error: a bad recipient or amount is refused before the passkey is asked', async () => {
  await dash.getByTestId('send-to').fill('0x1234')
  await dash.getByTestId('send-submit').click()
  await expect(dash.getByTestId('send-error')).toHaveText(
    'The recipient must be a 0x address of 40 hex digits.',
  )
  await dash.getByTestId('send-to').fill(recipient)
  await dash.getByTestId('send-amount').fill('1.1234567')
  await dash.getByTestId('send-submit').click()
  await expect(dash.getByTestId('send-error')).toHaveText(
    'The amount must be a number with at most 6 decimals.',
  )
})

test('behavior: what arrives on the second chain shows there, and in the totals', async ({ stack }) => {
  const sender = privateKeyToAccount(generatePrivateKey())
  await testClient(stack, second).setBalance({ address: sender.address, value: parseEther('1') })
  const wallet = createWalletClient({
    account: sender,
    chain: stackChain(stack, second),
    transport: http(second.rpcUrl),
  })
  await chain2.waitForTransactionReceipt({
    hash: await wallet.sendTransaction({ to: account, value: parseEther('0.7') }),
  })
  await chain2.waitForTransactionReceipt({
    hash: await wallet.writeContract({
      address: token,
      abi: demoTokenAbi,
      functionName: 'mint',
      args: [account, parseUnits('5', 6)],
    }),
  })
  expect(await chain2.getBalance({ address: account })).toBe(parseEther('0.7'))
  await expect(dash.getByTestId(`asset-${second.id}-ETH`)).toHaveText('0.7 ETH')
  await expect(dash.getByTestId(`asset-${second.id}-DUSD`)).toHaveText('5 DUSD')
  await expect(dash.getByTestId('asset-total-ETH')).toContainText('9.2 ETH')
  await expect(dash.getByTestId('asset-total-DUSD')).toContainText('754.75 DUSD')
  await dash.reload()
  const received = entries(dash, 'eth-in', second.id)
  await expect(received).toContainText('+0.7 ETH')
  await expect(received).toContainText(`from ${sender.address.slice(0, 6)}`)
  await expect(entries(dash, 'token-in', second.id)).toContainText('+5 DUSD')
})

test('behavior: a session granted in the demo is listed with its app, policies and limits; revoked here', async ({
  stack,
  chain,
}) => {
  await demo.getByTestId('session-token').fill(token)
  // The demo reads the hourly amount in the token's own units (DUSD has 6 decimals, from the chain's token list).
  await demo.getByTestId('session-token-allowance').fill('10')
  const popup = await clickForPopup(device, demo, 'session-request')
  await expectRequest(popup, stack, 'wallet_grantPermissions')
  await popup.getByTestId('approve').click()
  await expectClosed(popup, 60_000)
  sessionId = await readHex(demo.getByTestId('session-id'), hashPattern)
  const status = () =>
    chain.readContract({
      address: stack.contracts.sessionKeyValidator!,
      abi: sessionKeyValidatorAbi,
      functionName: 'sessionStatus',
      args: [account, sessionId],
    })
  expect(await status()).toBe(1) // Active

  await dash.reload()
  const demoOrigin = new URL(stack.demoUrl).origin
  const row = dash.locator(`[data-testid="session-row"][data-session-id="${sessionId}"]`)
  await expect(row).toHaveAttribute('data-status', 'active')
  await expect(row.getByTestId('session-app')).toHaveText(demoOrigin)
  await expect(row.getByTestId('session-policy')).toHaveText([
    'Call transfer on DUSD, recipient must be 0x0000…c0DE, no ETH',
    'Send ETH to 0x0000…F00D, up to 0.01 ETH per transfer',
  ])
  await expect(row.getByTestId('session-limit')).toHaveText([
    '0.05 ETH left of 0.05 ETH over the session',
    /^10 DUSD left of 10 DUSD per 1 h, resets in /,
    '0.02 ETH left of 0.02 ETH over the session',
  ])
  await expect(row.getByTestId('session-expiry')).toContainText(/expires in (1 h 5\d min|2 h)/)
  const app = dash.locator(`[data-testid="app-row"][data-origin="${demoOrigin}"]`)
  await expect(app.getByTestId('app-session')).toHaveText(`Session on ${stack.chains[0]!.name}: active`)
  const created = entries(dash, 'session-created', stack.chainId)
  await expect(created).toContainText('2 policies')
  await expect(created.getByTestId('activity-app')).toContainText(demoOrigin)

  await row.getByTestId('session-revoke').click()
  await expect(row).toHaveAttribute('data-status', 'revoked', { timeout: 30_000 })
  expect(await status()).toBe(3) // Revoked
  await expect(entries(dash, 'session-revoked', stack.chainId)).toHaveCount(1)
  await expect(app.getByTestId('app-session')).toHaveText(`Session on ${stack.chains[0]!.name}: revoked`)
})

test('behavior: Disconnect removes the app and the demo learns at once through the account channel', async ({
  stack,
}) => {
  await expect(demo.getByTestId('address')).toHaveText(account)
  const demoOrigin = new URL(stack.demoUrl).origin
  await dash
    .locator(`[data-testid="app-row"][data-origin="${demoOrigin}"]`)
    .getByTestId('app-disconnect')
    .click()
  await expect(dash.getByTestId('apps-empty')).toBeVisible()
  await expect(demo.getByTestId('address')).toHaveText('not connected')
  // Its session keeps the app's name.
  const row = dash.locator(`[data-testid="session-row"][data-session-id="${sessionId}"]`)
  await expect(row.getByTestId('session-app')).toHaveText(demoOrigin)
})

test('behavior: the dashboard fits 360, 440 and 1280 px without sideways scrolling', async () => {
  for (const width of [360, 440, 1280]) {
    await dash.setViewportSize({ width, height: 900 })
    await dash.reload()
    await expect(dash.getByTestId('activity-entry').first()).toBeVisible()
    await expect(dash.locator('[data-testid="session-row"]').first()).toBeVisible()
    const overflow = await dash.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    )
    expect(overflow, `horizontal overflow at ${width} px`).toBe(0)
    await dash.screenshot({ path: test.info().outputPath(`dashboard-${width}.png`), fullPage: true })
    // The full page of a phone is too tall to read at once: also in screen-high parts.
    const height = await dash.evaluate(() => document.documentElement.scrollHeight)
    for (let top = 0, part = 0; width < 1000 && top < height; top += 900, part++)
      await dash.screenshot({
        path: test.info().outputPath(`dashboard-${width}-part${part}.png`),
        fullPage: true,
        clip: { x: 0, y: top, width, height: Math.min(900, height - top) },
      })
  }
})

test('behavior: no uncaught exception in the demo, the popups or the dashboard', async () => {
  expect(device.pageErrors).toEqual([])
})
