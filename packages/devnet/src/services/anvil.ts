/**
 * The chain: one anvil (osaka hardfork, so the P-256 precompile is there) on 127.0.0.1. Stopped and started again
 * it comes back with its state (anvil_dumpState / anvil_loadState).
 */
import { anvilCommand } from '../internal/binaries.js'
import { spawnChild } from '../internal/Child.js'
import { rpc } from '../internal/rpc.js'
import {
  defineService,
  type ManagedService,
  type ProcessServiceParameters,
  serviceAddress,
} from '../Service.js'

export type AnvilServiceParameters = ProcessServiceParameters & { chainId: number }

/**
 * An anvil on `http://127.0.0.1:<port>` with chain id `chainId`, not started yet.
 *
 * @example
 * const chain = anvilService({ chainId: 31337, port: 8545, logDir, onDeath: console.error })
 * await chain.start()
 */
export function anvilService(parameters: AnvilServiceParameters): ManagedService {
  const { chainId, port, logDir } = parameters
  const { name, url } = serviceAddress('anvil', parameters)
  const anvil = anvilCommand()
  // What a stopped anvil comes back with.
  let savedState: unknown
  return defineService({
    name,
    url,
    spawn: () =>
      spawnChild({
        name,
        command: anvil.command,
        args: [
          ...anvil.args,
          '--hardfork',
          'osaka',
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--chain-id',
          String(chainId),
          // A block every second as well as one per transaction: time moves on chain as on a live chain (a
          // session's first op in a new allowance period needs a block in that period; SessionSend.ts).
          '--block-time',
          '1',
          '--mixed-mining',
        ],
        logDir,
      }),
    health: async () => (await rpc(url, 'eth_chainId')) === `0x${chainId.toString(16)}`,
    what: `eth_chainId on ${url}`,
    healthTimeoutMs: 15_000,
    beforeStop: async () => {
      savedState = await rpc(url, 'anvil_dumpState', [], 30_000)
    },
    afterRestart: async () => {
      if (savedState !== undefined) await rpc(url, 'anvil_loadState', [savedState], 30_000)
    },
    onDeath: parameters.onDeath,
  })
}
