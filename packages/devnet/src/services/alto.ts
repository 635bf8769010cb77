/**
 * The bundler: Alto for the EntryPoint v0.8 on 127.0.0.1, tuned for a local chain (bundles at once, several
 * executors, debug endpoints for the fault tests). Stopped and started again it comes back with an empty mempool.
 */
import { entryPoint08 } from '@sso/contracts-abi'
import { clockFileEnv } from '../Clock.js'
import { altoCommand } from '../internal/binaries.js'
import { spawnChild } from '../internal/Child.js'
import { rpc } from '../internal/rpc.js'
import {
  defineService,
  type ManagedService,
  type ProcessServiceParameters,
  serviceAddress,
} from '../Service.js'

/** Anvil's well-known dev keys (mnemonic "test test … junk"): #1 is Alto's first executor, #2 its utility wallet. */
export const anvilKeys = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
] as const

// Alto's executors: anvil #1, #7 and #8 (#3 to #6 serve the benchmarks and tests). With several, bundles of
// parallel userOps go out side by side instead of queueing behind one executor's pending transaction.
const executorKeys = [
  anvilKeys[1],
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
] as const

export type AltoServiceParameters = ProcessServiceParameters & {
  /** The chain's JSON-RPC URL (its executors are anvil's funded dev accounts). */
  rpcUrl: string
  /** Where Alto's preload reads the chain's time offset (docs: packages/devnet/src/Clock.ts). */
  clockFile: string
}

/**
 * An Alto on `http://127.0.0.1:<port>` for the chain at `rpcUrl`, not started yet.
 *
 * @example
 * const bundler = altoService({ rpcUrl, port: 4337, logDir, clockFile, onDeath: console.error })
 * await bundler.start()
 */
export function altoService(parameters: AltoServiceParameters): ManagedService {
  const { rpcUrl, port, logDir } = parameters
  const { name, url } = serviceAddress('alto', parameters)
  const alto = altoCommand()
  return defineService({
    name,
    url,
    spawn: () =>
      spawnChild({
        name,
        command: alto.command,
        args: [
          ...alto.args,
          '--entrypoints',
          entryPoint08.address,
          '--executor-private-keys',
          executorKeys.join(','),
          '--utility-private-key',
          anvilKeys[2],
          '--rpc-url',
          rpcUrl,
          '--port',
          String(port),
          '--safe-mode',
          'false',
          // Alto's callGasLimit is the gas the call used in simulation; a call whose callee calls back (a passkey
          // change: the validator writes to the account, docs/webauthn.md) needs a few % more, each call keeping
          // 1/64 of its gas. +10%, as hosted bundlers add; below the EntryPoint's 40k unused-gas penalty here.
          '--v7-call-gas-limit-multiplier',
          '110',
          // Bundle at once: a userOp waits at most 10 ms for its bundle (anvil mines each bundle on arrival).
          '--min-bundle-interval',
          '10',
          '--max-bundle-interval',
          '10',
          '--block-time',
          '100',
          // Parallel userOps of one account (distinct nonce keys) share a bundle instead of one bundle each.
          '--enforce-unique-senders-per-bundle',
          'false',
          // debug_bundler_setBundlingMode: fault tests hold a userOp in the mempool.
          '--enable-debug-endpoints',
          'true',
          // The web apps call the bundler from their own origins.
          '--enable-cors',
          'true',
          '--log-level',
          'warn',
        ],
        logDir,
        env: { ...process.env, [clockFileEnv]: parameters.clockFile },
      }),
    health: async () => {
      const entryPoints = (await rpc(url, 'eth_supportedEntryPoints')) as string[]
      return entryPoints.some((address) => address.toLowerCase() === entryPoint08.address.toLowerCase())
    },
    what: `eth_supportedEntryPoints on ${url}`,
    healthTimeoutMs: 60_000,
    onDeath: parameters.onDeath,
  })
}
