import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Unit tests of app/lib, the pure parts of the stores (node + WebCrypto) and the build's modules; the popup itself
// is covered by the Playwright specs.
export default defineConfig({
  resolve: { alias: { '~': fileURLToPath(new URL('./app', import.meta.url)) } },
  test: { include: ['app/**/*.test.ts', 'modules/**/*.test.ts'], environment: 'node' },
})
