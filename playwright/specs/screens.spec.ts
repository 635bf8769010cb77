import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import { expectClosed, expectRequest, fillSend, openDemo, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { expect, test } from '../fixtures/test.js'

// This file's own synced passkeys: each spec file is a user of its own.
const syncedPasskeys = new PasskeyStore()

/**
 * Every screen of the popup (and the auth server's pages, and the demo) at the widths it must fit, 360 px (phones)
 * and 440 px (the popup): no horizontal scrolling, no element wider than the window, long values shortened, and on
 * the session approval the Approve and Reject buttons come before any long hex. Each screen is saved to
 * `playwright/screens/<name>-<width>.png` (`pnpm screens` makes that gallery).
 */
test.describe.configure({ mode: 'serial' })

const gallery = join(dirname(fileURLToPath(import.meta.url)), '..', 'screens')
const widths = [360, 440] as const
const popupHeight = 680 // the popup's window (packages/client/src/internal/popupWindow.ts)

let device: Device
let page: Page

test.beforeAll(async ({ browser }) => {
  mkdirSync(gallery, { recursive: true })
  device = await newDevice(browser, syncedPasskeys)
  page = await device.context.newPage()
})

test.afterAll(async () => {
  await device?.context.close()
})

/** What sticks out sideways: the document's widths and the elements past the window's right or left edge. */
function overflowOf(target: Page) {
  return target.evaluate(() => {
    const root = document.documentElement
    const wide = [...document.querySelectorAll('body *')]
      .filter((element) => !element.closest('.sr-only'))
      .filter((element) => {
        const box = element.getBoundingClientRect()
        return box.width > 0 && (box.right > root.clientWidth + 0.5 || box.left < -0.5)
      })
      .map((element) => {
        const id = element.getAttribute('data-testid')
        return `<${element.tagName.toLowerCase()}${id ? ` data-testid="${id}"` : ''} class="${element.className}">`
      })
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide }
  })
}

/** Visible controls without an accessible name (text, aria-label, a label, or a title). */
function unnamedControls(target: Page) {
  return target.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], summary')]
      .filter((element) => element.getBoundingClientRect().width > 1 && !element.closest('.sr-only'))
      .filter((element) => {
        const labels = (element as HTMLInputElement).labels
        const named =
          element.getAttribute('aria-label')?.trim() ||
          (element.tagName !== 'INPUT' && element.tagName !== 'SELECT' && element.textContent?.trim()) ||
          (labels && [...labels].some((label) => label.textContent?.trim())) ||
          element.getAttribute('title')?.trim()
        return !named
      })
      .map((element) => element.outerHTML.slice(0, 120)),
  )
}

/** The controls in the order Tab reaches them (their test id, else their text), once round. */
async function tabOrder(target: Page, most = 60) {
  await target.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  const order: string[] = []
  for (let i = 0; i < most; i++) {
    await target.keyboard.press('Tab')
    const name = await target.evaluate(() => {
      const element = document.activeElement as HTMLElement | null
      if (!element || element === document.body || element.dataset.tabSeen) return undefined
      element.dataset.tabSeen = 'yes'
      return element.getAttribute('data-testid') ?? element.textContent?.trim() ?? element.tagName
    })
    if (name === undefined) break
    order.push(name)
  }
  return order
}

/** Visible text above `limit` (a y position) that holds hex longer than a shortened value. */
function longHexAbove(target: Page, limit: number) {
  return target.evaluate((limit) => {
    const found: string[] = []
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement
      if (!element || element.closest('.sr-only') || element.closest('details:not([open])')) continue
      const box = element.getBoundingClientRect()
      if (box.width === 0 || box.top >= limit) continue
      const hex = node.textContent?.match(/0x[0-9a-fA-F]{16,}/)
      if (hex) found.push(hex[0])
    }
    return found
  }, limit)
}

/** Checks `target` at both widths and saves it as `<name>-<width>.png`. */
async function capture(target: Page, name: string) {
  for (const width of widths) {
    await target.setViewportSize({ width, height: popupHeight })
    await target.evaluate(() => document.fonts.ready.then(() => undefined))
    const overflow = await overflowOf(target)
    expect(overflow.wide, `${name} at ${width} px: elements wider than the window`).toEqual([])
    expect(overflow.scrollWidth, `${name} at ${width} px: horizontal scrolling`).toBeLessThanOrEqual(
      overflow.clientWidth,
    )
    expect(await unnamedControls(target), `${name}: controls without an accessible name`).toEqual([])
    await target.screenshot({ path: join(gallery, `${name}-${width}.png`), fullPage: true })
  }
}

/** Opens the popup of `testId`, checks it names the demo and `method`, waits for `ready` if given, captures it. */
async function popupFor(testId: string, method: string, name: string, ready?: string) {
  const popup = await clickForPopup(device, page, testId)
  await expectRequest(popup, stack(), method)
  await expect(popup.getByTestId('approve').or(popup.getByTestId('signup'))).toBeVisible()
  if (ready) await expect(popup.getByTestId(ready)).toBeVisible()
  await capture(popup, name)
  return popup
}

async function reject(popup: Page) {
  await popup.getByTestId('reject').click()
  await expectClosed(popup)
  await expect(
    page.locator('[data-testid="error"], [data-testid="session-error"]').filter({ hasText: '4001' }).first(),
  ).toBeVisible()
}

let stackInfo: Parameters<typeof openDemo>[1]
const stack = () => stackInfo

test('screens: the auth server pages (home, not found, the popup opened by hand) and the demo', async ({
  stack: info,
}) => {
  stackInfo = info
  const auth = await device.context.newPage()
  await auth.goto(info.authServerUrl)
  await expect(auth.getByTestId('dashboard-link')).toBeVisible()
  await capture(auth, 'auth-home')
  await auth.goto(`${info.authServerUrl}/no-such-page`)
  await expect(auth.getByTestId('error-title')).toHaveText('Page not found')
  await expect(auth.getByTestId('error-home')).toHaveAccessibleName('Go to your account')
  await capture(auth, 'auth-not-found')
  await auth.goto(`${info.authServerUrl}/confirm`)
  await expect(auth.getByTestId('no-opener')).toBeVisible()
  await capture(auth, 'popup-no-opener')
  // A favicon that the browser can load.
  const icon = await auth.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href)
  expect((await auth.request.get(icon ?? `${info.authServerUrl}/missing-icon`)).status()).toBe(200)
  await auth.close()

  await openDemo(page, info)
  await capture(page, 'demo-signed-out')
})

test('screens: connect (sign up or log in), then every request the popup approves', async () => {
  // Connect, signed out: sign up or log in.
  const connect = await popupFor('connect', 'eth_requestAccounts', 'connect-sign-up-or-log-in')
  await expect(connect.getByTestId('signup')).toHaveAccessibleName('Sign up with a new passkey')
  await expect(connect.getByTestId('login')).toHaveAccessibleName('Log in with an existing passkey')
  await connect.close()
  await expect(page.getByTestId('error')).toContainText('4001')
  await signUp(device, page, stack())

  // Fund (devnet): test ETH and the demo token.
  await page.getByTestId('fund').click()
  await expect(page.getByTestId('funded')).toHaveText('+1 ETH, +1,000 DUSD')
  await expect(page.getByTestId('token-balance')).toHaveText('1000 DUSD')
  await capture(page, 'demo-connected')

  await reject(await popupFor('sign-message', 'personal_sign', 'sign-message'))
  await reject(await popupFor('sign-typed-data', 'eth_signTypedData_v4', 'sign-typed-data'))
  await reject(await popupFor('sign-in', 'personal_sign', 'sign-in-with-ethereum', 'siwe-ok'))

  const to = privateKeyToAccount(generatePrivateKey()).address
  await fillSend(page, to, '0.001')
  const tx = await popupFor('send-eth', 'eth_sendTransaction', 'transaction')
  await expect(tx.getByTestId('tx-target')).toHaveText(to)
  await reject(tx)

  // More ETH than the account holds: the popup says how much is missing, before the passkey.
  await fillSend(page, to, '5000')
  const poor = await popupFor('send-eth', 'eth_sendTransaction', 'transaction-large')
  await poor.getByTestId('approve').click()
  await expect(poor.getByTestId('request-error-message')).toContainText('can’t pay for this')
  await capture(poor, 'error-insufficient-funds')
  await reject(poor)

  // A token transfer with the passkey (no session yet): the amount in DUSD; more than the balance reverts.
  await page.getByTestId('session-pay-amount').fill('5000')
  const token = await popupFor('session-pay-token', 'eth_sendTransaction', 'transaction-token')
  await expect(token.getByTestId('tx-token-amount')).toHaveText('5000 DUSD')
  await token.getByTestId('approve').click()
  await expect(token.getByTestId('request-error-message')).toContainText('ERC20InsufficientBalance')
  await capture(token, 'error-revert')
  await reject(token)

  const batch = await popupFor('send-batch', 'wallet_sendCalls', 'batch')
  await expect(batch.getByTestId('tx-call')).toHaveCount(2)
  await batch.getByTestId('approve').click()
  await expectClosed(batch, 60_000)
  await expect(page.getByTestId('batch-status')).toHaveText('confirmed (200)')
  const status = await popupFor('show-batch', 'wallet_showCallsStatus', 'calls-status')
  await expect(status.getByTestId('calls-status')).toHaveAttribute('data-status', 'confirmed')
  await status.getByTestId('approve').click()
  await expectClosed(status)
})

test('screens: the session approval, its fallback and its revocation; connect with a session', async () => {
  // One click on a fresh stack: the form is prefilled with the demo token and a shop.
  await expect(page.getByTestId('session-token')).toHaveValue(/^0x[0-9a-fA-F]{40}$/)
  await expect(page.getByTestId('session-token-name')).toHaveText('Demo Dollar (DUSD, 6 decimals)')
  const grant = await popupFor('session-request', 'wallet_grantPermissions', 'session-grant')
  await expect(grant.getByTestId('session-policy').first()).toContainText('Transfer DUSD')
  await expect(grant.getByTestId('session-policy').first()).toContainText('at most 10 DUSD per hour')
  await expect(grant.getByTestId('session-spend')).toHaveText([/0\.02 ETH/, /30 DUSD/])
  // Approve and Reject come before any long hex (the session's public key is folded away), at both widths.
  for (const width of widths) {
    await grant.setViewportSize({ width, height: popupHeight })
    const approve = await grant.getByTestId('approve').boundingBox()
    expect(await longHexAbove(grant, (approve?.y ?? 0) + (approve?.height ?? 0))).toEqual([])
    await expect(grant.getByTestId('session-signer')).toBeHidden()
  }
  // The controls in tab order: what to read (and copy) first, then the choice, Reject before Approve, last.
  const order = await tabOrder(grant)
  expect(order.slice(-2)).toEqual(['reject', 'approve'])
  expect(order.filter((name) => name === 'Copy').length).toBeGreaterThan(0)
  await expect(grant.getByTestId('reject')).toHaveAccessibleName('Reject')
  await grant.getByTestId('approve').click()
  await expectClosed(grant, 60_000)
  await expect(page.getByTestId('session-state')).toContainText('active; token left this period: 10 DUSD')

  // Over the hourly allowance: the transaction falls back to the passkey popup.
  await page.getByTestId('session-pay-amount').fill('11')
  const fallback = await popupFor(
    'session-pay-token',
    'eth_sendTransaction',
    'session-fallback',
    'session-outside',
  )
  await expect(fallback.getByTestId('session-outside-reason')).toHaveText(
    'This transfer of 11 DUSD is more than the 10 DUSD left of the session’s limit.',
  )
  await reject(fallback)

  // The approval that warns (approve on a token) and wants an acknowledgement.
  await page.getByTestId('session-with-approve').check()
  const warned = await popupFor('session-request', 'wallet_grantPermissions', 'session-grant-warning')
  await expect(warned.getByTestId('session-warning').first()).toBeVisible()
  await reject(warned)
  await page.getByTestId('session-with-approve').uncheck()

  await reject(await popupFor('session-revoke', 'wallet_revokePermissions', 'session-revoke'))

  // The session survives a reload of the demo.
  await page.reload()
  await expect(page.getByTestId('session-state')).toContainText('active; token left this period: 10 DUSD')

  // Connect with a session, one popup: the connect screen (the account the auth server is logged in with), then
  // the session approval.
  await page.getByTestId('disconnect').click()
  await expect(page.getByTestId('address')).toHaveText('not connected')
  const both = await popupFor('session-connect', 'eth_requestAccounts', 'connect-account')
  await both.getByTestId('approve').click()
  await expectRequest(both, stack(), 'wallet_grantPermissions')
  await expect(both.getByTestId('session-summary')).toBeVisible()
  await capture(both, 'connect-with-session')
  await both.getByTestId('approve').click()
  await expectClosed(both, 60_000)
  await expect(page.getByTestId('address')).not.toHaveText('not connected')
  await expect(page.getByTestId('session-state')).toContainText('active; token left this period: 10 DUSD')
})
