import { newDevice } from '../fixtures/device.js'
import { openDemo } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { test } from '../fixtures/test.js'

/**
 * Popup start-up (`pnpm --filter @sso/playwright bench`): the demo's Connect click until the popup's
 * `{ type: 'ready' }` reaches the demo, both timed in the demo's page (the click event's own time), on a fresh
 * device each time (nothing cached). Once as served from this machine, once with {@link delays}' added delay before
 * each of the auth server's responses: a network between the browser and the host, where the popup's
 * round trips (its HTML, its code, `/sso-config.json`) add up. Reports; the numbers never fail the run.
 */
const opens = Number(process.env.SSO_BENCH_POPUP_OPENS ?? 12)
const delays = [0, 80]

test('bench: popup open -> ready, with and without a network', async ({ browser, stack }) => {
  test.setTimeout(delays.length * opens * 15_000 + 30_000)
  const authOrigin = new URL(stack.authServerUrl).origin
  const lines = [`Popup open -> ready (ms), ${opens} opens each, fresh device each open`]
  for (const delay of delays) {
    const times: number[] = []
    for (let open = 0; open < opens; open++) {
      const device = await newDevice(browser, new PasskeyStore())
      try {
        if (delay > 0)
          await device.context.route(
            (url) => url.origin === authOrigin,
            async (route) => {
              await new Promise((resolve) => setTimeout(resolve, delay))
              await route.continue()
            },
          )
        const page = await device.context.newPage()
        await openDemo(page, stack)
        await page.evaluate(() => {
          const held = window as unknown as { ssoClickAt?: number; ssoReadyAt?: number }
          window.addEventListener('message', (event) => {
            if ((event.data as { type?: string } | null)?.type === 'ready')
              held.ssoReadyAt ??= performance.timeOrigin + performance.now()
          })
          document.addEventListener(
            'click',
            (event) => {
              held.ssoClickAt = performance.timeOrigin + event.timeStamp
            },
            { capture: true, once: true },
          )
        })
        const opened = page.waitForEvent('popup')
        await page.getByTestId('connect').click()
        await device.passkeys.ready(await opened)
        await page.waitForFunction(
          () => (window as unknown as { ssoReadyAt?: number }).ssoReadyAt !== undefined,
        )
        const { clickAt, readyAt } = await page.evaluate(() => {
          const held = window as unknown as { ssoClickAt: number; ssoReadyAt: number }
          return { clickAt: held.ssoClickAt, readyAt: held.ssoReadyAt }
        })
        times.push(readyAt - clickAt)
      } finally {
        await device.context.close()
      }
    }
    const sorted = [...times].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)]!
    lines.push(
      `${`+${delay} ms per response`.padEnd(22)}median ${median.toFixed(0).padEnd(6)}min ${sorted[0]!.toFixed(0).padEnd(6)}max ${sorted.at(-1)!.toFixed(0).padEnd(6)}${times.map((t) => t.toFixed(0)).join(' ')}`,
    )
  }
  console.log(`\n${lines.join('\n')}\n`)
})
