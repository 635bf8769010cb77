/**
 * Bundle size of the client entries: esbuild, all dependencies included, minified, gzip level 9, split as a dapp's
 * bundler splits it: what loads with the entry (the entry and the chunks it imports statically) and, apart, what
 * loads only when a method needs it (dynamic imports: e.g. viem for `wallet_getModules`' chain reads).
 * Usage: pnpm --filter @sso/client size [--max-kb 30]   (exits 1 when what the provider entry loads is over budget)
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
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
    splitting: true,
    outdir: 'size-out',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    external: entry.external ?? [],
    logLevel: 'error',
  })
  const outputs = result.metafile.outputs
  const files = new Map(result.outputFiles.map((f) => [path.relative(root, f.path), f.contents]))
  const main = Object.keys(outputs).find((name) => outputs[name]?.entryPoint)!
  // The entry and every chunk reachable through static imports load at once; the rest on demand.
  const initial = new Set<string>()
  const visit = (name: string) => {
    if (initial.has(name)) return
    initial.add(name)
    for (const i of outputs[name]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path)
  }
  visit(main)
  const sizes = (names: string[]) => {
    const code = names.map((n) => files.get(n) ?? new Uint8Array())
    return {
      min: code.reduce((sum, c) => sum + c.length, 0),
      gzip: code.reduce((sum, c) => sum + gzipSync(c, { level: 9 }).length, 0),
    }
  }
  const now = sizes([...initial])
  const lazy = sizes(Object.keys(outputs).filter((n) => !initial.has(n) && n.endsWith('.js')))
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
  const over = entry.budget && now.gzip > budgetKb * 1024
  if (over) failed = true
  const note = entry.external ? ` (without ${entry.external.join(', ')})` : ''
  console.log(
    `${entry.name.padEnd(26)} minified ${kb(now.min).padStart(9)}  gzip ${kb(now.gzip).padStart(8)}${note}${
      entry.budget ? `  budget ${budgetKb} KB ${over ? 'EXCEEDED' : 'ok'}` : ''
    }${lazy.min > 0 ? `; on demand: gzip ${kb(lazy.gzip)}` : ''}`,
  )
}
if (failed) process.exit(1)
