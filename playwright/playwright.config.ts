import { defineConfig } from '@playwright/test'
import { browserUse } from './fixtures/browser.js'

/**
 * End-to-end suite: real Chromium (Debian's, Playwright cannot download browsers here), real anvil + Alto +
 * static web apps started once by `globalSetup` on free ports, real popups and CDP virtual passkeys.
 *
 * One worker: the machine has 2 cores and every spec shares the one stack (chain state is global).
 */
// `SSO_E2E_RESULTS` moves the run's output (traces, screenshots, results.json) away from `test-results/`, so two
// runs in one checkout don't delete each other's artifacts.
const results = process.env.SSO_E2E_RESULTS ?? 'test-results'

export default defineConfig({
  testDir: './specs',
  testMatch: '**/*.spec.ts',
  globalSetup: './global-setup.ts',
  globalTeardown: './global-teardown.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  // The whole suite must stay well under 20 minutes on 2 cores; a single flow step is seconds.
  timeout: 90_000,
  globalTimeout: 20 * 60_000,
  expect: { timeout: 20_000 },
  // `list` for humans, `json` so CI can read the figures (passed/failed/duration) from one file.
  reporter: [
    ['list'],
    ['json', { outputFile: `${results}/results.json` }],
    ['./fixtures/summary-reporter.ts'],
  ],
  outputDir: `${results}/artifacts`,
  use: {
    ...browserUse,
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
})
