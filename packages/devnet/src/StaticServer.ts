import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
}

/** A running static server. */
export type StaticServer = {
  port: number
  /** `http://localhost:<port>` (the server binds 127.0.0.1; WebAuthn wants the `localhost` host name). */
  url: string
  close: () => Promise<void>
}

/** One rule of a `_headers` file: the headers of the paths `pattern` matches. */
export type HeaderRule = { pattern: string; headers: [name: string, value: string | null][] }

/**
 * Parses a `_headers` file as Netlify and Cloudflare Pages read it: a path pattern on its own line (`*` matches
 * any rest of the path), then its headers indented, `Name: value`, one per line; `! Name` drops a header an earlier
 * rule set (value `null`); `#` starts a comment.
 */
export function parseHeadersFile(text: string): HeaderRule[] {
  const rules: HeaderRule[] = []
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    if (!/^\s/.test(line)) {
      rules.push({ pattern: line.trim(), headers: [] })
      continue
    }
    const rule = rules.at(-1)
    const detach = /^\s*!\s*(\S+)\s*$/.exec(line)
    const colon = line.indexOf(':')
    if (!rule || (!detach && colon < 0))
      throw new Error(`_headers: "${line.trim()}" is not a header of a path rule.`)
    if (detach) rule.headers.push([detach[1]!, null])
    else rule.headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
  }
  return rules
}

function matchesPattern(pattern: string, pathname: string): boolean {
  const star = pattern.indexOf('*')
  return star < 0 ? pattern === pathname : pathname.startsWith(pattern.slice(0, star))
}

/**
 * The headers `rules` give `pathname` (names in lower case), as Cloudflare Pages applies them: every matching rule
 * adds its headers, a header set again is appended to (`a, b`), and `! Name` detaches what earlier rules set.
 */
export function headersFor(rules: readonly HeaderRule[], pathname: string): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const rule of rules) {
    if (!matchesPattern(rule.pattern, pathname)) continue
    for (const [name, value] of rule.headers) {
      const key = name.toLowerCase()
      if (value === null) delete headers[key]
      else headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`
    }
  }
  return headers
}

/**
 * Serves a static build (a SPA) on 127.0.0.1: files from `root`, `GET /sso-config.json` answering `config`,
 * and for unknown paths without an extension the SPA entry (`200.html`, else `index.html`) with status 200.
 * A `_headers` file in `root` (docs/deploy.md) adds its headers to the responses of the paths it names, as a
 * static host would, and is itself never served.
 *
 * @example
 * const server = await startStaticServer({ root: 'apps/demo/dist', port: 3001, config })
 */
export async function startStaticServer(parameters: {
  root: string
  port: number
  config?: unknown
}): Promise<StaticServer> {
  const root = path.resolve(parameters.root)
  const fallback = ['200.html', 'index.html']
    .map((file) => path.join(root, file))
    .find((file) => fs.existsSync(file))
  const configBody = parameters.config === undefined ? undefined : JSON.stringify(parameters.config, null, 2)
  const headersFile = path.join(root, '_headers')
  const rules = fs.existsSync(headersFile) ? parseHeadersFile(fs.readFileSync(headersFile, 'utf8')) : []

  const resolveFile = (pathname: string): string | undefined => {
    const file = path.join(root, pathname)
    // Never outside the root (`..` segments are normalised by URL, this guards encoded ones).
    if (file !== root && !file.startsWith(root + path.sep)) return undefined
    for (const candidate of [file, path.join(file, 'index.html'), `${file}.html`]) {
      try {
        if (fs.statSync(candidate).isFile()) return candidate
      } catch {
        // Try the next form.
      }
    }
    return undefined
  }

  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname)
    } catch {
      response.writeHead(400).end()
      return
    }
    for (const [name, value] of Object.entries(headersFor(rules, pathname))) response.setHeader(name, value)
    if (pathname === '/sso-config.json' && configBody !== undefined) {
      response.writeHead(200, {
        'content-type': contentTypes['.json'],
        'cache-control': 'no-store',
        'access-control-allow-origin': '*',
      })
      response.end(request.method === 'HEAD' ? undefined : configBody)
      return
    }
    let file = pathname === '/_headers' ? undefined : resolveFile(pathname)
    const spaEntry = !file && path.extname(pathname) === '' && fallback !== undefined
    if (spaEntry) file = fallback
    if (!file) {
      // A miss is never kept, whatever the path's rule says (a chunk missing during a deploy must not stay missing).
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      response.end('Not found')
      return
    }
    const type = contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
    // The SPA entry is always revalidated; else a `_headers` rule decides; else hashed assets can be cached and HTML
    // must be revalidated (a rebuild shows up).
    const ruled = response.getHeader('cache-control')
    const cache = spaEntry
      ? 'no-cache'
      : ruled !== undefined
        ? String(ruled)
        : pathname.includes('/_nuxt/') || pathname.includes('/assets/')
          ? 'max-age=31536000, immutable'
          : 'no-cache'
    response.writeHead(200, {
      'content-type': type,
      'cache-control': cache,
      'content-length': fs.statSync(file).size,
    })
    if (request.method === 'HEAD') {
      response.end()
      return
    }
    fs.createReadStream(file).pipe(response)
  })
  // Let stop() finish promptly even with keep-alive connections from a browser.
  server.keepAliveTimeout = 1000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: parameters.port, host: '127.0.0.1' }, () => resolve())
  })
  const port = (server.address() as { port: number }).port
  return {
    port,
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
