import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { withBuildLock } from '@sso/contracts-abi/artifacts'
import { DevnetError } from './Errors.js'
import { type Child, runToCompletion } from './internal/Child.js'

/** Root of the monorepo. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** The web apps the stack serves: where they live, what builds them, where the static build lands. */
export const webApps = {
  demo: { name: 'demo', dir: 'apps/demo', output: 'dist' },
  authServer: { name: 'auth-server', dir: 'apps/auth-server', output: '.output/public' },
} as const

export type WebApp = (typeof webApps)[keyof typeof webApps]

const ignored = new Set(['node_modules', '.output', '.nuxt', '.data', 'dist', '.cache', 'test-results'])

function newestSource(dir: string): number {
  let newest = 0
  if (!fs.existsSync(dir)) return newest
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (ignored.has(entry.name)) continue
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs)
  }
  return newest
}

/** Absolute path of an app's static build. */
export function outputDir(app: WebApp): string {
  return path.join(repoRoot, app.dir, app.output)
}

/**
 * True when the app's static build is missing or older than its sources or the workspace packages it bundles
 * (packages/client, packages/contracts-abi).
 */
export function isStale(app: WebApp): boolean {
  const index = path.join(outputDir(app), 'index.html')
  if (!fs.existsSync(index)) return true
  const built = fs.statSync(index).mtimeMs
  const sources = Math.max(
    newestSource(path.join(repoRoot, app.dir)),
    newestSource(path.join(repoRoot, 'packages/client/src')),
    newestSource(path.join(repoRoot, 'packages/contracts-abi/src')),
  )
  return sources > built
}

/**
 * Builds the app (`pnpm run build` in its directory) when its static build is stale. A failed build throws
 * with the build output.
 */
export async function ensureBuilt(
  app: WebApp,
  options: { logDir: string; log: (line: string) => void; onSpawn?: (child: Child) => void },
) {
  const dir = path.join(repoRoot, app.dir)
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    throw new DevnetError(`The ${app.name} app is missing (${dir}).`)
  }
  if (!isStale(app)) return false
  return withBuildLock(dir, async () => {
    // Another process may have built it while we waited.
    if (!isStale(app)) return false
    options.log(`building ${app.name}…`)
    await runToCompletion({
      name: `build-${app.name}`,
      command: 'pnpm',
      args: ['run', 'build'],
      cwd: dir,
      logDir: options.logDir,
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    })
    if (!fs.existsSync(path.join(outputDir(app), 'index.html'))) {
      throw new DevnetError(`Building ${app.name} produced no ${path.join(outputDir(app), 'index.html')}.`)
    }
    // Mark the build fresh even when the tool kept an unchanged index.html.
    const now = new Date()
    fs.utimesSync(path.join(outputDir(app), 'index.html'), now, now)
    return true
  })
}
