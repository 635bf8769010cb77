import { parseArgs } from 'node:util'

const options = {
  'no-web': { type: 'boolean', default: false },
  'port-offset': { type: 'string', default: '0' },
  'second-chain': { type: 'boolean', default: false },
  'no-contracts': { type: 'boolean', default: false },
  indexer: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

/**
 * The options of `pnpm dev`. A `--` separator is dropped wherever it stands, so that both `pnpm dev --no-web` and
 * `pnpm dev -- --no-web` work (pnpm passes the separator on to the script). Unknown options and positional
 * arguments throw (node's `ERR_PARSE_ARGS_*`).
 */
export function parseCliArgs(argv: readonly string[]) {
  return parseArgs({ args: argv.filter((arg) => arg !== '--'), options }).values
}
