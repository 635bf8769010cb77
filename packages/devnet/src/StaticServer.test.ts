import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { headersFor, parseHeadersFile, type StaticServer, startStaticServer } from './StaticServer.js'

let root: string
let server: StaticServer
const config = { authServerUrl: 'http://localhost:3002', chains: [] }

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-static-'))
  fs.mkdirSync(path.join(root, 'assets'))
  fs.writeFileSync(path.join(root, 'index.html'), '<p>index</p>')
  fs.writeFileSync(path.join(root, '200.html'), '<p>spa</p>')
  fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)')
  fs.writeFileSync(path.join(root, 'assets', 'app.css'), 'p{}')
  fs.mkdirSync(path.join(root, 'assets', 'builds'))
  fs.writeFileSync(path.join(root, 'assets', 'builds', 'latest.json'), '{}')
  fs.writeFileSync(path.join(os.tmpdir(), 'sso-static-secret.txt'), 'secret')
  fs.writeFileSync(
    path.join(root, '_headers'),
    "# the auth server's\n/*\n  X-Frame-Options: DENY\n  Cross-Origin-Opener-Policy: same-origin\n/confirm\n  ! Cross-Origin-Opener-Policy\n  Cross-Origin-Opener-Policy: unsafe-none\n/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n/assets/builds/*\n  ! Cache-Control\n  Cache-Control: no-cache\n",
  )
  server = await startStaticServer({ root, port: 0, config })
})

afterAll(async () => {
  await server.close()
  fs.rmSync(root, { recursive: true, force: true })
})

test('behavior: serves files with their content types', async () => {
  expect(server.url).toBe(`http://localhost:${server.port}`)
  const index = await fetch(`${server.url}/`)
  expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
  expect(await index.text()).toBe('<p>index</p>')
  const js = await fetch(`${server.url}/assets/app.js`)
  expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
  expect((await fetch(`${server.url}/assets/app.css`)).headers.get('content-type')).toBe(
    'text/css; charset=utf-8',
  )
})

test('behavior: client-side routes fall back to 200.html with status 200', async () => {
  const response = await fetch(`${server.url}/confirm?x=1`)
  expect(response.status).toBe(200)
  expect(await response.text()).toBe('<p>spa</p>')
})

test('behavior: /sso-config.json answers the config', async () => {
  const response = await fetch(`${server.url}/sso-config.json`)
  expect(response.headers.get('content-type')).toContain('application/json')
  expect(await response.json()).toEqual(config)
})

test('error: a missing asset is 404, not the SPA entry', async () => {
  expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404)
})

test('error: paths outside the root are not served', async () => {
  const response = await fetch(`${server.url}/%2e%2e/sso-static-secret.txt`)
  expect(response.status).toBe(404)
  expect(await response.text()).not.toContain('secret')
})

test('error: other methods are refused', async () => {
  expect((await fetch(`${server.url}/`, { method: 'POST' })).status).toBe(405)
})

test("behavior: _headers rules apply to the paths they match; `! Name` detaches an earlier rule's header", async () => {
  const spa = await fetch(`${server.url}/dashboard`)
  expect(spa.headers.get('x-frame-options')).toBe('DENY')
  expect(spa.headers.get('cross-origin-opener-policy')).toBe('same-origin')
  const popup = await fetch(`${server.url}/confirm`)
  expect(popup.headers.get('x-frame-options')).toBe('DENY')
  expect(popup.headers.get('cross-origin-opener-policy')).toBe('unsafe-none')
  expect((await fetch(`${server.url}/sso-config.json`)).headers.get('x-frame-options')).toBe('DENY')
})

test('behavior: a _headers Cache-Control decides for the files served, never for a miss or the SPA entry', async () => {
  expect((await fetch(`${server.url}/assets/app.js`)).headers.get('cache-control')).toBe(
    'public, max-age=31536000, immutable',
  )
  expect((await fetch(`${server.url}/assets/builds/latest.json`)).headers.get('cache-control')).toBe(
    'no-cache',
  )
  expect((await fetch(`${server.url}/dashboard`)).headers.get('cache-control')).toBe('no-cache')
  const missing = await fetch(`${server.url}/assets/gone.js`)
  expect(missing.status).toBe(404)
  expect(missing.headers.get('cache-control')).toBe('no-store')
  // An extensionless path under a cached folder is the SPA entry, revalidated.
  expect((await fetch(`${server.url}/assets/route`)).headers.get('cache-control')).toBe('no-cache')
})

test('behavior: the _headers file itself is not served', async () => {
  const response = await fetch(`${server.url}/_headers`)
  expect(await response.text()).not.toContain('X-Frame-Options')
})

test('behavior: parseHeadersFile reads path rules and their headers', () => {
  const rules = parseHeadersFile('/*\n  A: 1; b=2\n  B: 2\n\n# note\n/x/*\n  A: 3\n  ! B\n')
  expect(rules).toEqual([
    {
      pattern: '/*',
      headers: [
        ['A', '1; b=2'],
        ['B', '2'],
      ],
    },
    {
      pattern: '/x/*',
      headers: [
        ['A', '3'],
        ['B', null],
      ],
    },
  ])
  // As Cloudflare Pages: a header set again is appended to; `! B` detaches B.
  expect(headersFor(rules, '/x/y')).toEqual({ a: '1; b=2, 3' })
  expect(headersFor(rules, '/y')).toEqual({ a: '1; b=2', b: '2' })
})

test('error: a header before any path rule is refused', () => {
  expect(() => parseHeadersFile('  A: 1\n')).toThrow(/not a header of a path rule/)
})
