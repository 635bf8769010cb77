import { rm } from 'node:fs/promises'
import { type HeldStack, stackHandle } from './fixtures/stack.js'

/** Stops the stack started by the global setup (nothing to do when a running stack was reused). */
export default async function globalTeardown(): Promise<void> {
  const store = globalThis as Record<symbol, HeldStack | undefined>
  const held = store[stackHandle]
  if (!held) return
  store[stackHandle] = undefined
  await held.stop()
  await rm(held.dir, { recursive: true, force: true })
  console.log('[e2e] stack stopped')
}
