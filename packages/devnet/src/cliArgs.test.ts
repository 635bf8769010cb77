import { expect, test } from 'vitest'
import { parseCliArgs } from './internal/cliArgs.js'

test('behavior: `pnpm dev --no-web` and `pnpm dev -- --no-web` mean the same', () => {
  const defaults = {
    'no-web': false,
    'port-offset': '0',
    'second-chain': false,
    'no-contracts': false,
    indexer: false,
    help: false,
  }
  expect(parseCliArgs([])).toEqual(defaults)
  expect(parseCliArgs(['--no-web'])).toEqual({ ...defaults, 'no-web': true })
  expect(parseCliArgs(['--', '--indexer'])).toEqual({ ...defaults, indexer: true })
  expect(parseCliArgs(['--', '--no-web'])).toEqual({ ...defaults, 'no-web': true })
  expect(parseCliArgs(['--', '--port-offset', '100', '--second-chain'])).toEqual({
    ...defaults,
    'port-offset': '100',
    'second-chain': true,
  })
})

test('error: an unknown option or a stray argument is refused, naming it', () => {
  expect(() => parseCliArgs(['--no-wbe'])).toThrow("Unknown option '--no-wbe'")
  expect(() => parseCliArgs(['--', 'web'])).toThrow("Unexpected argument 'web'")
})
