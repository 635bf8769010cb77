/**
 * `pnpm dev`: starts the local stack on the default ports, prints the URLs, stays up until Ctrl-C / SIGTERM.
 *
 *   --no-web            chain + bundler only
 *   --port-offset <n>   add n to every default port (a second stack next to the first)
 *   --second-chain      also start chain 31338 (anvil 8546, Alto 4338)
 *   --no-contracts      only the EntryPoint (when packages/contracts does not compile)
 *   --indexer           also the history indexer (Ponder, 42069) for every chain; the dashboard reads it
 */
import { DevnetError } from './Errors.js'
import { parseCliArgs } from './internal/cliArgs.js'
import { type Stack, startStack } from './Stack.js'

const values = parseCliArgs(process.argv.slice(2))

if (values.help) {
  console.log('Usage: pnpm dev [--no-web] [--port-offset <n>] [--second-chain] [--no-contracts] [--indexer]')
  process.exit(0)
}
const portOffset = Number(values['port-offset'])
if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 50_000) {
  console.error(`--port-offset must be a non-negative integer, got ${values['port-offset']}`)
  process.exit(2)
}

const started = Date.now()
let stack: Stack | undefined
let stopping = false

const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  process.stderr.write(`\n[devnet] ${signal}: stopping…\n`)
  await stack?.stop()
  process.stderr.write('[devnet] stopped\n')
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

try {
  stack = await startStack({
    web: values['no-web'] ? 'none' : 'static',
    portOffset,
    secondChain: values['second-chain'],
    contracts: !values['no-contracts'],
    indexer: values.indexer,
  })
} catch (error) {
  console.error(
    `\n[devnet] could not start the stack: ${error instanceof DevnetError ? error.message : error}`,
  )
  if (!(error instanceof DevnetError) && error instanceof Error && error.stack) console.error(error.stack)
  process.exit(1)
}

const lines = [
  '',
  'SSO local stack',
  ...stack.chains.flatMap((chain) => [
    `  chain ${chain.id}   ${chain.rpcUrl}`,
    `  bundler       ${chain.bundlerUrl}`,
    ...(chain.paymasterServiceUrl
      ? [`  paymaster     ${chain.paymasterServiceUrl}  (ERC-7677 service)`]
      : []),
    ...(chain.indexerUrl ? [`  indexer       ${chain.indexerUrl}  (history, Ponder)`] : []),
  ]),
  ...(values['no-web']
    ? []
    : [
        `  demo          ${stack.demoUrl}`,
        `  auth server   ${stack.authServerUrl}`,
        `  backup page   ${stack.backupAuthServerUrl}  (backup passkeys, another origin)`,
      ]),
  '  contracts',
  ...Object.entries(stack.contracts).map(([name, address]) => `    ${name.padEnd(20)} ${address}`),
  `  logs          ${stack.logDir}`,
  '',
  `ready in ${((Date.now() - started) / 1000).toFixed(1)} s — Ctrl-C to stop`,
]
console.log(lines.join('\n'))

const death = await stack.died
console.error(`\n[devnet] ${death.message}`)
await stack.stop()
process.exit(1)
