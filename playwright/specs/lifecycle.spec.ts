import type { Page } from '@playwright/test'
import { nonceKey } from '@sso/client/account'
import { type Address, type Hex, parseEther } from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import { expectRequest, fillSend, hashPattern, openDemo, readHex, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { publicClient, type StackInfo } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

// This file's own synced passkeys: each spec file is a user of its own.
const syncedPasskeys = new PasskeyStore()

/**
 * Issue "Every approved request reaches the dapp" (docs/architecture.md, section 4), through the real popup,
 * passkeys, chain and bundler: a request sent before its popup closed still reaches the dapp, a popup whose dapp
 * left sends nothing, a log-out in the auth server reaches the dapp, a blocked popup is a typed error.
 */
test.describe.configure({ mode: 'serial' })

let device: Device
let page: Page
let account: Address

test.beforeAll(async ({ browser }) => {
  device = await newDevice(browser, syncedPasskeys)
  page = await device.context.newPage()
})

test.afterAll(async () => {
  await device?.context.close()
})

/** Calls the demo's provider (found through EIP-6963) outside any user gesture; returns its result or error. */
function requestInPage(target: Page, method: string, params?: unknown[]) {
  return target.evaluate(
    async ({ method, params }) => {
      const provider = await new Promise<{ request(args: unknown): Promise<unknown> }>((resolve) => {
        window.addEventListener(
          'eip6963:announceProvider',
          (event) => resolve((event as CustomEvent).detail.provider),
          { once: true },
        )
        window.dispatchEvent(new Event('eip6963:requestProvider'))
      })
      try {
        return { result: await provider.request({ method, params }) }
      } catch (e) {
        const { name, code, shortMessage, details } = e as Record<string, unknown>
        return { error: { name, code, shortMessage, details } }
      }
    },
    { method, params },
  )
}

/** The account's passkey nonce: it moves by one for every userOp the passkey signed. */
function passkeyNonce(stack: StackInfo) {
  return publicClient(stack).readContract({
    address: stack.contracts.entryPoint!,
    abi: entryPoint08Abi,
    functionName: 'getNonce',
    args: [account, nonceKey(stack.contracts.webAuthnValidator!)],
  })
}

test('behavior: sign up and connect', async ({ stack, anvil }) => {
  await openDemo(page, stack)
  account = (await signUp(device, page, stack)).address
  await anvil.setBalance({ address: account, value: parseEther('1') })
  await expect(page.getByTestId('address')).toHaveText(account, { ignoreCase: true })
})

test('behavior: approve, then close the popup at once -> the dapp still gets the tx hash; one tx on chain', async ({
  stack,
}) => {
  const chain = publicClient(stack)
  const to = privateKeyToAccount(generatePrivateKey()).address
  const nonce = await passkeyNonce(stack)
  await fillSend(page, to, '0.001')
  const popup = await clickForPopup(device, page, 'send-eth')
  await expectRequest(popup, stack, 'eth_sendTransaction')
  // The popup's own wait for the receipt is held back, so the popup is surely still open when it is closed.
  await popup.route(`${stack.bundlerUrl}/**`, async (route) => {
    if (route.request().postData()?.includes('eth_getUserOperationReceipt'))
      await new Promise((resolve) => setTimeout(resolve, 15_000))
    // check-tests: allow the popup is closed while this request waits; nothing is left to answer
    await route.continue().catch((error: unknown) => void error)
  })
  await popup.getByTestId('approve').click()
  // The moment the userOp is with the bundler, the popup says so; the user closes it right then.
  const demoOrigin = new URL(stack.demoUrl).origin
  await expect
    .poll(() =>
      device.messages.receivedAt(demoOrigin).some((m) => (m.data as { type?: string }).type === 'submitted'),
    )
    .toBe(true)
  await popup.close()

  const hash = await readHex(page.getByTestId('tx-hash'), hashPattern)
  await expect(page.getByTestId('error')).toHaveText('')
  const receipt = await chain.getTransactionReceipt({ hash: hash as Hex })
  expect(receipt.status).toBe('success')
  // Exactly one userOp was sent, and it paid exactly once.
  expect(await passkeyNonce(stack)).toBe(nonce + 1n)
  expect(await chain.getBalance({ address: to })).toBe(parseEther('0.001'))
})

test('behavior: the popup closed while eth_sendUserOperation is on its way -> the dapp still gets the tx hash, not 4001', async ({
  stack,
}) => {
  const chain = publicClient(stack)
  const to = privateKeyToAccount(generatePrivateKey()).address
  const nonce = await passkeyNonce(stack)
  await fillSend(page, to, '0.001')
  const popup = await clickForPopup(device, page, 'send-eth')
  await expectRequest(popup, stack, 'eth_sendTransaction')
  // The signed op reaches the bundler, but the popup is closed before it reads the bundler's answer.
  let reachedBundler!: () => void
  const sentToBundler = new Promise<void>((resolve) => (reachedBundler = resolve))
  await popup.route(`${stack.bundlerUrl}/**`, async (route) => {
    if (!route.request().postData()?.includes('eth_sendUserOperation')) return route.continue()
    const response = await route.fetch()
    reachedBundler()
    await new Promise((resolve) => setTimeout(resolve, 15_000))
    // check-tests: allow the popup is closed while this answer waits; nothing is left to answer
    await route.fulfill({ response }).catch((error: unknown) => void error)
  })
  await popup.getByTestId('approve').click()
  await sentToBundler
  await popup.close()

  const hash = await readHex(page.getByTestId('tx-hash'), hashPattern)
  await expect(page.getByTestId('error')).toHaveText('')
  expect((await chain.getTransactionReceipt({ hash: hash as Hex })).status).toBe('success')
  expect(await passkeyNonce(stack)).toBe(nonce + 1n)
  expect(await chain.getBalance({ address: to })).toBe(parseEther('0.001'))
})

test('behavior: the dapp reloaded while its popup is open -> the popup cancels the request, nothing is sent', async ({
  stack,
}) => {
  const nonce = await passkeyNonce(stack)
  const to = privateKeyToAccount(generatePrivateKey()).address
  await fillSend(page, to, '0.001')
  const popup = await clickForPopup(device, page, 'send-eth')
  await expectRequest(popup, stack, 'eth_sendTransaction')
  await expect(popup.getByTestId('approve')).toBeVisible()
  await page.reload()
  await expect(popup.getByTestId('requester-gone')).toContainText('Nothing was signed or sent')
  await expect(popup.getByTestId('approve')).toHaveCount(0)
  for (const width of [360, 440]) {
    await popup.setViewportSize({ width, height: 640 })
    await popup.screenshot({ path: test.info().outputPath(`requester-gone-${width}.png`), fullPage: true })
    expect(await popup.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
  }
  await popup.close()
  await expect(page.getByTestId('address')).toHaveText(account, { ignoreCase: true })
  expect(await passkeyNonce(stack)).toBe(nonce)
  expect(await publicClient(stack).getBalance({ address: to })).toBe(0n)
})

test('behavior: log out in the auth server -> the demo shows it is disconnected, and why; later requests are 4100', async ({
  stack,
}) => {
  const auth = await device.context.newPage()
  await auth.goto(`${stack.authServerUrl}/dashboard`)
  await auth.getByTestId('logout').click()
  await expect(page.getByTestId('address')).toHaveText('not connected')
  await expect(page.getByTestId('disconnect-reason')).toHaveText(
    'Disconnected: The SSO account logged out in the SSO auth server.',
  )
  for (const width of [360, 440]) {
    await page.setViewportSize({ width, height: 800 })
    await page.getByTestId('disconnect-reason').scrollIntoViewIfNeeded()
    await page.screenshot({ path: test.info().outputPath(`demo-disconnected-${width}.png`) })
  }
  await page.setViewportSize({ width: 1100, height: 800 })
  expect(await requestInPage(page, 'personal_sign', ['0x68', account])).toEqual({
    error: {
      name: 'UnauthorizedError',
      code: 4100,
      shortMessage:
        'Not connected: the SSO account logged out in the SSO auth server; call eth_requestAccounts first (from a click handler).',
    },
  })
  await auth.close()
})

test('error: a popup the browser blocks -> PopupBlockedError that says to call from a click handler', async ({
  stack,
  browser,
}) => {
  // Headless Chromium lets every popup through; a blocker shows itself to the page as `window.open` returning null.
  const context = await browser.newContext()
  try {
    await context.addInitScript(() => {
      window.open = () => null
    })
    const blocked = await context.newPage()
    await openDemo(blocked, stack)
    expect(await requestInPage(blocked, 'eth_requestAccounts')).toEqual({
      error: {
        name: 'PopupBlockedError',
        code: -32603,
        shortMessage: 'The SSO popup was blocked by the browser.',
        details:
          'Call provider.request() for this method directly from a user gesture (a click handler), before any `await`, so that window.open() is allowed.',
      },
    })
    // The demo's own button shows the same typed error.
    await blocked.getByTestId('connect').click()
    await expect(blocked.getByTestId('error')).toHaveText('-32603: The SSO popup was blocked by the browser.')
  } finally {
    await context.close()
  }
})
