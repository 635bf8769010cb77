import type { Page } from '@playwright/test'
import { publicClient } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Issue "Workspace…": the local stack is up and both web apps read the chain they were configured for.
 * Every figure a page shows is compared with what viem reads from the same chain.
 */

async function readHome(page: Page) {
  const chainId = page.getByTestId('chain-id')
  const blockNumber = page.getByTestId('block-number')
  const entryPoint = page.getByTestId('entrypoint-status')
  await expect(chainId).toHaveText(/\d+/)
  await expect(blockNumber).toHaveText(/\d+/)
  await expect(entryPoint).not.toBeEmpty()
  return {
    chainId: Number((await chainId.textContent())?.match(/\d+/)?.[0]),
    blockNumber: BigInt((await blockNumber.textContent())?.match(/\d+/)?.[0] ?? '-1'),
    entryPoint: (await entryPoint.textContent())?.trim() ?? '',
  }
}

test.describe('stack', () => {
  test('behavior: the chain has the EntryPoint v0.8 and our contracts deployed', async ({ chain, stack }) => {
    expect(await chain.getChainId()).toBe(stack.chainId)
    expect(await chain.getBlockNumber()).toBeGreaterThan(0n)
    for (const [name, address] of Object.entries(stack.contracts)) {
      const code = await chain.getCode({ address })
      expect(code?.length ?? 0, `${name} at ${address} has code`).toBeGreaterThan(2)
    }
    // Every chain of the stack has the same contracts at the same addresses (CREATE2, fixed salts).
    expect(stack.chains.map((c) => c.id)).toEqual([stack.chainId, 31338])
    for (const other of stack.chains) {
      expect(other.contracts).toEqual(stack.contracts)
      const client = publicClient(stack, other)
      expect(await client.getChainId()).toBe(other.id)
      for (const [name, address] of Object.entries(other.contracts)) {
        const code = await client.getCode({ address })
        expect(code?.length ?? 0, `${name} on chain ${other.id} has code`).toBeGreaterThan(2)
      }
    }
    expect(stack.contracts.entryPoint?.toLowerCase()).toBe('0x4337084d9e255ff0702461cf8895ce9e3b5ff108')
    // The bundler serves the same chain and EntryPoint.
    const bundler = async (method: string) => {
      const response = await fetch(stack.bundlerUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
      })
      return ((await response.json()) as { result: unknown }).result
    }
    expect(Number(await bundler('eth_chainId'))).toBe(stack.chainId)
    expect((await bundler('eth_supportedEntryPoints')) as string[]).toContainEqual(
      expect.stringMatching(/^0x4337084d9e255ff0702461cf8895ce9e3b5ff108$/i),
    )
  })

  for (const app of ['demo', 'auth server'] as const) {
    test(`behavior: the ${app} shows the chain id, block number and EntryPoint it reads from the chain`, async ({
      page,
      chain,
      stack,
    }) => {
      const before = await chain.getBlockNumber()
      await page.goto(app === 'demo' ? stack.demoUrl : stack.authServerUrl)
      const shown = await readHome(page)
      const after = await chain.getBlockNumber()

      expect(shown.chainId).toBe(stack.chainId)
      expect(shown.chainId).toBe(await chain.getChainId())
      expect(shown.blockNumber).toBeGreaterThan(0n)
      expect(shown.blockNumber).toBeGreaterThanOrEqual(before)
      expect(shown.blockNumber).toBeLessThanOrEqual(after)
      const code = await chain.getCode({ address: stack.contracts.entryPoint! })
      expect(code?.length ?? 0).toBeGreaterThan(2)
      expect(shown.entryPoint).toMatch(/present|deployed|ok|✓|yes/i)
      expect(shown.entryPoint).not.toMatch(/missing|absent|not|✗|no\b|error/i)
    })
  }

  test('behavior: the EntryPoint indicator reads the chain (missing while its code is gone)', async ({
    page,
    anvil,
    chain,
    stack,
  }) => {
    const entryPoint = stack.contracts.entryPoint!
    const code = (await chain.getCode({ address: entryPoint }))!
    for (const url of [stack.demoUrl, stack.authServerUrl]) {
      await page.goto(url)
      await expect(page.getByTestId('entrypoint-status')).toHaveText(/present/i)
    }
    try {
      await anvil.setCode({ address: entryPoint, bytecode: '0x' })
      for (const url of [stack.demoUrl, stack.authServerUrl]) {
        await page.goto(url)
        await expect(page.getByTestId('entrypoint-status')).toHaveText(/missing/i)
      }
    } finally {
      await anvil.setCode({ address: entryPoint, bytecode: code })
    }
    expect(await chain.getCode({ address: entryPoint })).toBe(code)
  })

  test('behavior: the shown block number follows the chain', async ({ page, anvil, chain, stack }) => {
    await page.goto(stack.demoUrl)
    const first = await readHome(page)
    await anvil.mine({ blocks: 3 })
    const target = await chain.getBlockNumber()
    expect(target).toBeGreaterThanOrEqual(first.blockNumber + 3n)
    // The page polls (or is reloaded); either way it must catch up with the chain.
    await expect
      .poll(
        async () => {
          const shown = await readHome(page)
          if (shown.blockNumber < target) await page.reload()
          return shown.blockNumber
        },
        { timeout: 20_000, intervals: [500, 1000, 2000] },
      )
      .toBeGreaterThanOrEqual(target)
  })
})

test('behavior: the auth server has a favicon and a branded not-found page that leads home', async ({
  page,
  stack,
}) => {
  const favicon = await page.request.get(`${stack.authServerUrl}/favicon.svg`)
  expect(favicon.status()).toBe(200)
  expect(favicon.headers()['content-type']).toMatch(/^image\/svg\+xml/)
  await page.setViewportSize({ width: 360, height: 640 })
  await page.goto(`${stack.authServerUrl}/no-such-page`)
  await expect(page.locator('link[rel="icon"]')).toHaveAttribute('href', '/favicon.svg')
  await expect(page.getByTestId('error-title')).toHaveText('Page not found')
  await expect(page.getByTestId('error-path')).toHaveText('There is nothing at /no-such-page.')
  expect(
    await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
  ).toBe(true)
  await page.screenshot({ path: test.info().outputPath('not-found-360.png') })
  await page.setViewportSize({ width: 440, height: 640 })
  await page.screenshot({ path: test.info().outputPath('not-found-440.png') })
  await page.getByTestId('error-home').click()
  await expect(page).toHaveURL(`${stack.authServerUrl}/`)
  await expect(page.getByTestId('chain-id')).toHaveText(/\d+/)
})

test('security: the auth server is served with its production headers (docs/deploy.md)', async ({
  page,
  stack,
}) => {
  for (const path of ['/', '/confirm', '/dashboard', '/no-such-page']) {
    const headers = (await page.request.get(`${stack.authServerUrl}${path}`)).headers()
    const csp = headers['content-security-policy'] ?? ''
    expect(csp, path).toContain("frame-ancestors 'none'")
    expect(csp, path).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/)
    expect(csp, path).not.toMatch(/unsafe-inline|unsafe-eval/)
    expect(csp, path).toContain("object-src 'none'")
    expect(headers['x-frame-options'], path).toBe('DENY')
    // The popup answers a dapp on another origin through window.opener: any other value would sever it.
    expect(headers['cross-origin-opener-policy'], path).toBe('unsafe-none')
    expect(headers['x-content-type-options'], path).toBe('nosniff')
  }
  expect((await page.request.get(`${stack.authServerUrl}/_headers`)).headers()['content-type']).toMatch(
    /text\/html/,
  )
  // The account channel is the one page dapps frame (docs/interfaces.md): no UI, and it answers only its framer.
  const channel = (await page.request.get(`${stack.authServerUrl}/channel.html`)).headers()
  expect(channel['content-security-policy']).toContain('frame-ancestors *')
  expect(channel['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/)
  expect(channel['x-frame-options']).toBeUndefined()
})

test('behavior: the popup names all its start-up code in its HTML, and the code is cached for good (docs/deploy.md)', async ({
  page,
  stack,
}) => {
  // Every script the popup's page runs at start is fetched at once with the HTML, not found one chunk after another.
  const html = await (await page.request.get(`${stack.authServerUrl}/confirm`)).text()
  const named = new Set(
    [...html.matchAll(/<(?:link rel="modulepreload"|script type="module")[^>]*(?:href|src)="([^"]+)"/g)].map(
      (m) => m[1],
    ),
  )
  expect(named.size).toBeGreaterThan(2)
  const loaded: string[] = []
  page.on('request', (request) => {
    if (request.resourceType() === 'script') loaded.push(new URL(request.url()).pathname)
  })
  await page.goto(`${stack.authServerUrl}/confirm`)
  await expect(page.getByTestId('request-origin')).toBeVisible()
  expect(loaded.length).toBeGreaterThan(2)
  expect(loaded.filter((path) => !named.has(path))).toEqual([])

  // The chunks carry their content's hash in their names; the HTML and Nuxt's build manifests do not.
  const chunk = await page.request.get(`${stack.authServerUrl}${loaded[0]}`)
  expect(chunk.headers()['cache-control']).toBe('public, max-age=31536000, immutable')
  expect((await page.request.get(`${stack.authServerUrl}/confirm`)).headers()['cache-control']).toBe(
    'no-cache',
  )
  expect(
    (await page.request.get(`${stack.authServerUrl}/_nuxt/builds/latest.json`)).headers()['cache-control'],
  ).toBe('no-cache')
})

test('security: no page can frame the auth server (clickjacking of the approval screens)', async ({
  browser,
  stack,
}) => {
  // A context of its own: the refusal is reported as a CSP error in the framing page, which is the point here.
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    const refused: string[] = []
    page.on('console', (message) => {
      if (/frame-ancestors/.test(message.text())) refused.push(message.text())
    })
    await page.goto(stack.demoUrl)
    for (const path of ['/confirm', '/dashboard']) {
      await page.evaluate((src) => {
        const frame = document.createElement('iframe')
        frame.src = src
        document.body.append(frame)
      }, `${stack.authServerUrl}${path}`)
    }
    await expect.poll(() => refused.length).toBe(2)
    const framed = page.frames().filter((frame) => frame !== page.mainFrame())
    expect(framed).toHaveLength(2)
    for (const frame of framed) {
      // A refused frame holds the browser's error page, never the auth server's document.
      expect(frame.url()).not.toContain(stack.authServerUrl)
      expect(await frame.locator('[data-testid]').count()).toBe(0)
    }
  } finally {
    await context.close()
  }
})
