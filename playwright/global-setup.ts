import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack } from '@sso/devnet'
import { type HeldStack, type StackInfo, stackFileEnv, stackHandle, toStackInfo } from './fixtures/stack.js'

/**
 * Starts a private stack (two anvil chains with our contracts, an Alto per chain, the static demo and auth server) on free ports and writes its
 * description to a JSON file named by `SSO_E2E_STACK_FILE`, which the workers inherit.
 * If `SSO_E2E_STACK_FILE` already names an existing file, that stack is used as is (and not stopped).
 */
export default async function globalSetup(): Promise<void> {
  const preset = process.env[stackFileEnv]
  if (preset && existsSync(preset)) {
    console.log(`[e2e] using the running stack described in ${preset}`)
    return
  }
  const started = Date.now()
  const stack = await startStack({ ports: 'auto', web: 'static', secondChain: true })
  let info: StackInfo
  try {
    const dir = await mkdtemp(join(tmpdir(), 'sso-e2e-'))
    ;(globalThis as Record<symbol, HeldStack>)[stackHandle] = { stop: () => stack.stop(), dir }
    info = toStackInfo(stack)
    const file = join(dir, 'stack.json')
    await writeFile(file, JSON.stringify(info, null, 2))
    process.env[stackFileEnv] = file
  } catch (error) {
    await stack.stop()
    throw error
  }
  console.log(
    `[e2e] stack up in ${((Date.now() - started) / 1000).toFixed(1)} s: rpc ${info.rpcUrl}, bundler ${info.bundlerUrl}, demo ${info.demoUrl}, auth ${info.authServerUrl}, backup ${info.backupAuthServerUrl}, logs ${info.logDir}`,
  )
}
