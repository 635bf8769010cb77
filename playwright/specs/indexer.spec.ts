import type { Page } from '@playwright/test'
import { type Stack, startStack } from '@sso/devnet'
import type { Address } from 'viem'
import { type Device, newDevice } from '../fixtures/device.js'
import { openDemo, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { type StackInfo, toStackInfo } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

/**
 * The dashboard's activity from the history indexer (docs/dashboard.md, "The indexer"), on a stack of its own started
 * with `indexer: true`: the panel names the indexer; with the indexer stopped it falls back to the node's logs and
 * says why, listing the same entries.
 */
test.describe.configure({ mode: 'serial' })

let own: Stack
let info: StackInfo
let device: Device
let dash: Page
let account: Address

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000)
  own = await startStack({ ports: 'auto', quiet: true, indexer: true })
  info = toStackInfo(own)
  device = await newDevice(browser, new PasskeyStore())
})

test.afterAll(async () => {
  await device?.context.close()
  await own?.stop()
})

const shoot = async (page: Page, name: string) => {
  for (const width of [360, 440]) {
    await page.setViewportSize({ width, height: 900 })
    await page.getByTestId('activity-panel').screenshot({ path: `test-results/indexer-${name}-${width}.png` })
  }
}

test('behavior: the activity names the indexer and lists the sign-up from it', async () => {
  const demo = await device.context.newPage()
  await openDemo(demo, info)
  account = (await signUp(device, demo, info)).address
  dash = await device.context.newPage()
  await dash.goto(`${info.authServerUrl}/dashboard`)
  await expect(dash.getByTestId('account-address')).toHaveText(account)
  const source = dash.getByTestId('activity-source')
  await expect(source).toHaveAttribute('data-source', 'indexer')
  await expect(source).toHaveText(/^\s*Source: indexer \(127\.0\.0\.1:\d+\)$/)
  await expect(dash.locator('[data-testid="activity-entry"][data-kind="user-operation"]')).toHaveCount(1)
  await shoot(dash, 'source')
})

test('behavior: with the indexer stopped the activity falls back to the node logs and says so', async () => {
  await own.service('indexer').stop()
  await dash.reload()
  const source = dash.getByTestId('activity-source')
  await expect(source).toHaveAttribute('data-source', 'node-logs')
  await expect(source).toContainText(
    'node logs (eth_getLogs in 5,000-block ranges): the indexer at 127.0.0.1:',
  )
  await expect(source).toContainText('does not answer')
  await expect(dash.locator('[data-testid="activity-entry"][data-kind="user-operation"]')).toHaveCount(1)
  await shoot(dash, 'fallback')
})
