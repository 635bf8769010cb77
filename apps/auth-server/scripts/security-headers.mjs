#!/usr/bin/env node
/**
 * Writes `_headers` next to the static build (`.output/public/_headers`): the HTTP headers the auth server must be
 * served with (docs/deploy.md, "Headers"): the security headers, and how long the build's files may be cached. The format is the one Netlify and Cloudflare Pages read; the devnet's
 * static server applies the same file, so every end-to-end test runs under these headers.
 *
 * The Content-Security-Policy allows scripts from the page's own origin plus the inline bootstrap scripts the build
 * emitted, by hash (they carry the build id, so the hashes change with every build and are computed here).
 * `connect-src` lists where the app may send requests: its own origin (the `/sso-config.json`) and the chains' RPC,
 * bundler and paymaster URLs, from `SSO_CONNECT_SRC` (space-separated origins) when set; otherwise any https/wss
 * origin and the loopback (the devnet).
 *
 * Usage: node scripts/security-headers.mjs [outputDir]
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const outputDir = process.argv[2] ?? '.output/public'

/** Every `.html` file under `dir`. */
function htmlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) return htmlFiles(full)
    return entry.name.endsWith('.html') ? [full] : []
  })
}

/** CSP hash sources of the executable inline scripts of `html` (JSON data blocks are not executed). */
export function inlineScriptHashes(html) {
  const hashes = []
  for (const match of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/g)) {
    const attributes = match[1] ?? ''
    const body = match[2] ?? ''
    if (/\ssrc\s*=/.test(attributes) || body.length === 0) continue
    const type = /\stype\s*=\s*"([^"]*)"/.exec(attributes)?.[1]
    if (type && type !== 'module' && type !== 'text/javascript') continue
    hashes.push(`'sha256-${createHash('sha256').update(body).digest('base64')}'`)
  }
  return hashes
}

const hashes = [
  ...new Set(htmlFiles(outputDir).flatMap((file) => inlineScriptHashes(readFileSync(file, 'utf8')))),
]
const connect = process.env.SSO_CONNECT_SRC?.trim() || 'https: wss: http://localhost:* http://127.0.0.1:*'

const csp = [
  "default-src 'self'",
  `script-src 'self' ${hashes.join(' ')}`.trim(),
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  `connect-src 'self' ${connect}`,
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  // Nobody may frame the auth server: every approval screen could otherwise be overlaid (clickjacking).
  "frame-ancestors 'none'",
].join('; ')

const headers = {
  'Content-Security-Policy': csp,
  'X-Frame-Options': 'DENY',
  // The popup answers its opener (a dapp on another origin) with postMessage: any other value severs the opener.
  'Cross-Origin-Opener-Policy': 'unsafe-none',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Permissions-Policy':
    'publickey-credentials-get=(self), publickey-credentials-create=(self), camera=(self), microphone=(), geolocation=(), payment=()',
}

// The account channel (docs/interfaces.md, "Account channel") is the one page dapps frame: it has no UI to overlay
// and only answers the origin that framed it. A later rule replaces the headers of an earlier one (`! Name` detaches
// it first, as Cloudflare Pages reads it).
const channel = {
  'Content-Security-Policy': csp.replace("frame-ancestors 'none'", 'frame-ancestors *'),
}

// The build's chunks and styles are named by their content's hash: a browser keeps them for good, so a popup opened
// again loads no code over the network. Nuxt's build manifests under `builds/` keep their names: revalidated.
const lines = [
  '/*',
  ...Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`),
  '/_nuxt/*',
  '  Cache-Control: public, max-age=31536000, immutable',
  '/_nuxt/builds/*',
  '  ! Cache-Control',
  '  Cache-Control: no-cache',
  '/channel.html',
  '  ! Content-Security-Policy',
  '  ! X-Frame-Options',
  ...Object.entries(channel).map(([name, value]) => `  ${name}: ${value}`),
  '',
]
writeFileSync(join(outputDir, '_headers'), lines.join('\n'))
console.log(`security headers: ${join(outputDir, '_headers')} (${hashes.length} inline script hash(es))`)
