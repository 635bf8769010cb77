import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { demoTokenAbi } from '@sso/contracts-abi'
import { type Address, encodeFunctionData, type Hex, numberToHex, parseEther } from 'viem'
import { newDevice } from '../fixtures/device.js'
import { openDemo, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Dashboard latency (docs/dashboard.md): an account with N history entries (DUSD mints to it, one transaction and
 * one `Transfer` each), then "dashboard open -> every panel filled": navigation until the assets show the
 * balances, the activity its first page of 20 entries with the source named, and the sessions and connected-apps
 * panels their content; and "every entry listed": clicking Older until no page is left. Source: node logs (the
 * only one today). Median of {@link runs} opens. Reports; never fails on a number.
 */
const runs = Number(process.env.SSO_BENCH_RUNS ?? 5)
const sizes = (process.env.SSO_BENCH_HISTORY ?? '100,1000').split(',').map(Number)
const faucet: Address = '0xbe0c000000000000000000000000000000000001'

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function openFilled(page: Page, url: string): Promise<number> {
  const started = Date.now()
  await page.goto(url)
  await expect(page.getByTestId('activity-entry')).toHaveCount(20)
  await expect(page.getByTestId('activity-source')).toContainText('node logs')
  await expect(page.locator('[data-testid^="asset-"][data-testid$="-DUSD"]').first()).toHaveText(
    /[1-9][\d,]* DUSD/,
  )
  await expect(page.getByTestId('sessions-empty')).toBeVisible()
  await expect(page.locator('[data-testid="app-row"]').first()).toBeVisible()
  return Date.now() - started
}

test('bench: dashboard open -> every panel filled', async ({ browser, stack, chain }) => {
  test.setTimeout(15 * 60_000)
  const device = await newDevice(browser, new PasskeyStore())
  const results: Record<string, { openMedianMs: number; openRunsMs: number[]; allEntriesMs: number }> = {}
  try {
    const demo = await device.context.newPage()
    await openDemo(demo, stack)
    const { address } = await signUp(device, demo, stack)
    const token = stack.contracts.demoToken!
    const rpc = (method: string, params: unknown[]) =>
      chain.request({ method, params } as never) as Promise<unknown>
    await rpc('anvil_setBalance', [faucet, numberToHex(parseEther('1000'))])
    await rpc('anvil_impersonateAccount', [faucet])
    // The sign-up's entries: its user operation, three modules installed and the passkey added.
    let made = 5
    const dash = await device.context.newPage()
    const url = `${stack.authServerUrl}/dashboard`
    for (const size of sizes) {
      const hashes: Hex[] = []
      for (; made < size; made++)
        hashes.push(
          (await rpc('eth_sendTransaction', [
            {
              from: faucet,
              to: token,
              data: encodeFunctionData({
                abi: demoTokenAbi,
                functionName: 'mint',
                args: [address, 1_000_000n],
              }),
            },
          ])) as Hex,
        )
      if (hashes.length) await chain.waitForTransactionReceipt({ hash: hashes.at(-1)! })
      await openFilled(dash, url) // warm: the app's files cached as a returning user has them
      const open: number[] = []
      for (let run = 0; run < runs; run++) open.push(await openFilled(dash, url))
      const started = Date.now()
      while (await dash.getByTestId('activity-more').isVisible()) {
        const shown = await dash.getByTestId('activity-entry').count()
        await dash.getByTestId('activity-more').click()
        await expect(dash.getByTestId('activity-entry')).not.toHaveCount(shown)
      }
      const allEntriesMs = Date.now() - started
      expect(await dash.getByTestId('activity-entry').count()).toBe(size)
      results[`${size} entries`] = { openMedianMs: median(open), openRunsMs: open, allEntriesMs }
      console.log(
        `dashboard, ${size} history entries (node logs): open -> every panel filled median ${median(open)} ms (${open.join(' ')}); every entry listed (20 a page) ${allEntriesMs} ms`,
      )
    }
    await rpc('anvil_stopImpersonatingAccount', [faucet])
  } finally {
    await device.context.close()
  }
  await writeFile(
    join(test.info().project.outputDir, 'dashboard.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  )
})
