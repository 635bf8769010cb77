/**
 * Bundle size of the client entries: esbuild, all dependencies included, minified, gzip level 9.
 * Usage: pnpm --filter @sso/client size [--max-kb 30]   (exits 1 when the provider entry is over the budget)
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const maxArg = process.argv.indexOf('--max-kb')
const budgetKb = maxArg > 0 ? Number(process.argv[maxArg + 1]) : 30

const entries = [
  { name: '@sso/client (provider)', file: 'src/index.ts', budget: true },
  { name: '@sso/client/popup', file: 'src/entry/popup.ts', budget: false },
  { name: '@sso/client/wagmi', file: 'src/wagmi.ts', budget: false, external: ['@wagmi/core', 'viem'] },
  { name: '@sso/client/account', file: 'src/entry/account.ts', budget: false },
]

let failed = false
for (const entry of entries) {
  if (!existsSync(`${root}/${entry.file}`)) continue
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry.file],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    external: entry.external ?? [],
    logLevel: 'error',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  const gzip = gzipSync(code, { level: 9 }).length
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
  const over = entry.budget && gzip > budgetKb * 1024
  if (over) failed = true
  const note = entry.external ? ` (without ${entry.external.join(', ')})` : ''
  console.log(
    `${entry.name.padEnd(26)} minified ${kb(code.length).padStart(9)}  gzip ${kb(gzip).padStart(8)}${note}${
      entry.budget ? `  budget ${budgetKb} KB ${over ? 'EXCEEDED' : 'ok'}` : ''
    }`,
  )
}
if (failed) process.exit(1)
