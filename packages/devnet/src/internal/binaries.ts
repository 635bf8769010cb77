import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)

/** package.json of an installed package, found like node does (some packages don't export it). */
function packageJsonOf(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name, 'package.json')
    if (fs.existsSync(candidate)) return candidate
    const parent = path.dirname(dir)
    if (parent === dir) return require.resolve(`${name}/package.json`)
    dir = parent
  }
}

/** [command, ...leading args] that run a tool. */
export type Command = { command: string; args: string[] }

/**
 * The anvil binary of @foundry-rs/anvil: the platform package's executable when present (saves a node
 * wrapper process), otherwise the package's node launcher.
 */
export function anvilCommand(): Command {
  const packageJson = packageJsonOf('@foundry-rs/anvil')
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    const platformJson = createRequire(packageJson).resolve(
      `@foundry-rs/anvil-${process.platform}-${arch}/package.json`,
    )
    const binary = path.join(
      path.dirname(platformJson),
      'bin',
      process.platform === 'win32' ? 'anvil.exe' : 'anvil',
    )
    if (fs.existsSync(binary)) return { command: binary, args: [] }
  } catch {
    // Fall through to the launcher.
  }
  return { command: process.execPath, args: [path.join(path.dirname(packageJson), 'bin.mjs')] }
}

/** The Alto bundler CLI of @pimlico/alto, run with this node. */
export function altoCommand(): Command {
  const packageJson = packageJsonOf('@pimlico/alto')
  const { bin } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { bin: string | Record<string, string> }
  const script = typeof bin === 'string' ? bin : bin.alto
  if (!script) throw new Error('@pimlico/alto has no `alto` bin')
  // Preloads: listen on loopback only; a clock that follows the chain's (see chain-clock.mjs).
  const preloads = ['loopback-only.mjs', 'chain-clock.mjs'].flatMap((name) => [
    '--import',
    pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), name)).href,
  ])
  return {
    command: process.execPath,
    args: [...preloads, path.join(path.dirname(packageJson), script)],
  }
}
