import { defineConfig } from '@playwright/test'
import { browserUse } from '../fixtures/browser.js'

/**
 * Flow latency benchmark (`pnpm --filter @sso/playwright bench`): same browser and private stack as the e2e
 * suite, not part of `pnpm test`. Reports; never fails on a number.
 */
export default defineConfig({
  testDir: '.',
  testMatch: ['flows.ts', 'popup.ts', 'dashboard.ts'],
  globalSetup: '../global-setup.ts',
  globalTeardown: '../global-teardown.ts',
  workers: 1,
  retries: 0,
  timeout: 8 * 60_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  outputDir: process.env.SSO_E2E_RESULTS ? `${process.env.SSO_E2E_RESULTS}/bench` : '../test-results/bench',
  use: { ...browserUse, actionTimeout: 20_000, navigationTimeout: 30_000 },
})
