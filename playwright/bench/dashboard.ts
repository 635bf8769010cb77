import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from '@playwright/test'
import { demoTokenAbi } from '@sso/contracts-abi'
import { startStack } from '@sso/devnet'
import {
  type Address,
  createPublicClient,
  encodeFunctionData,
  type Hex,
  http,
  numberToHex,
  parseEther,
} from 'viem'
import { newDevice } from '../fixtures/device.js'
import { openDemo, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { type StackInfo, toStackInfo } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Dashboard latency (docs/dashboard.md): an account with N history entries (DUSD mints to it, one transaction and
 * one `Transfer` each), then "dashboard open -> every panel filled": navigation until the assets show the
 * balances, the activity its first page of 20 entries with the source named, and the sessions and connected-apps
 * panels their content; and "every entry listed": clicking Older until no page is left. Once per history source:
 * node logs (the e2e stack) and the indexer (a stack of its own with `indexer: true`, measured once it has caught
 * up). Median of {@link runs} opens. Reports; never fails on a number.
 */
const runs = Number(process.env.SSO_BENCH_RUNS ?? 5)
const sizes = (process.env.SSO_BENCH_HISTORY ?? '100,1000').split(',').map(Number)
const faucet: Address = '0xbe0c000000000000000000000000000000000001'

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

type Source = 'node-logs' | 'indexer'
type Figures = { openMedianMs: number; openRunsMs: number[]; allEntriesMs: number }

async function openFilled(page: Page, url: string, source: Source): Promise<number> {
  const started = Date.now()
  await page.goto(url)
  await expect(page.getByTestId('activity-entry')).toHaveCount(20)
  await expect(page.getByTestId('activity-source')).toHaveAttribute('data-source', source)
  await expect(page.locator('[data-testid^="asset-"][data-testid$="-DUSD"]').first()).toHaveText(
    /[1-9][\d,]* DUSD/,
  )
  await expect(page.getByTestId('sessions-empty')).toBeVisible()
  await expect(page.locator('[data-testid="app-row"]').first()).toBeVisible()
  return Date.now() - started
}

/** Grows one new account's history to each of {@link sizes} and measures the dashboard at each. */
async function benchSource(
  browser: Browser,
  info: StackInfo,
  source: Source,
): Promise<Record<string, Figures>> {
  const results: Record<string, Figures> = {}
  const device = await newDevice(browser, new PasskeyStore())
  try {
    const demo = await device.context.newPage()
    await openDemo(demo, info)
    const { address } = await signUp(device, demo, info)
    const token = info.contracts.demoToken!
    const chain = createPublicClient({ transport: http(info.rpcUrl) })
    const rpc = (method: string, params: unknown[]) =>
      chain.request({ method, params } as never) as Promise<unknown>
    await rpc('anvil_setBalance', [faucet, numberToHex(parseEther('1000'))])
    await rpc('anvil_impersonateAccount', [faucet])
    // The sign-up's entries: its user operation, three modules installed and the passkey added.
    let made = 5
    const dash = await device.context.newPage()
    const url = `${info.authServerUrl}/dashboard`
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
      // Warm: the app's files cached as a returning user has them, and the indexer caught up with the chain
      // (until then the dashboard reads the node and says so).
      await expect
        .poll(
          () =>
            openFilled(dash, url, source).then(
              () => true,
              () => false,
            ),
          {
            timeout: 10 * 60_000,
            intervals: [1_000, 2_000, 5_000],
          },
        )
        .toBe(true)
      const open: number[] = []
      for (let run = 0; run < runs; run++) open.push(await openFilled(dash, url, source))
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
        `dashboard, ${size} history entries (${source}): open -> every panel filled median ${median(open)} ms (${open.join(' ')}); every entry listed (20 a page) ${allEntriesMs} ms`,
      )
    }
    await rpc('anvil_stopImpersonatingAccount', [faucet])
  } finally {
    await device.context.close()
  }
  return results
}

test('bench: dashboard open -> every panel filled, from each history source', async ({ browser, stack }) => {
  test.setTimeout(40 * 60_000)
  const results: Record<Source, Record<string, Figures>> = {
    'node-logs': await benchSource(browser, stack, 'node-logs'),
    indexer: {},
  }
  const own = await startStack({ ports: 'auto', quiet: true, indexer: true })
  try {
    results.indexer = await benchSource(browser, toStackInfo(own), 'indexer')
  } finally {
    await own.stop()
  }
  await writeFile(
    join(test.info().project.outputDir, 'dashboard.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  )
})
