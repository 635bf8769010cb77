/**
 * The history indexer (packages/indexer, Ponder) on 127.0.0.1, for the chains of an `sso-config.json`
 * (docs/dashboard.md, "The indexer"). Its embedded database starts empty at every start: a devnet chain is new at
 * every stack start, and Ponder would mix an old chain's rows into a new one's.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnChild } from '../internal/Child.js'
import { rpc } from '../internal/rpc.js'
import { defineService, type ManagedService, type ProcessServiceParameters } from '../Service.js'
import { repoRoot } from '../WebApps.js'

/** `logDir` also holds its database (`<logDir>/indexer-db`); one indexer serves every chain (no suffix). */
export type IndexerServiceParameters = Omit<ProcessServiceParameters, 'suffix'> & {
  /** The `sso-config.json` naming the chains to index (their RPC URLs and contracts). */
  configFile: string
}

/** Where the indexer package lives. */
const indexerDir = path.join(repoRoot, 'packages/indexer')

/**
 * An indexer on `http://127.0.0.1:<port>`, not started yet. Healthy once it has indexed every chain up to the
 * block the chain had when asked (Ponder's `/ready` alone does not wait for the newest blocks).
 *
 * @example
 * const indexer = indexerService({ configFile, port: 42069, logDir, onDeath: console.error })
 * await indexer.start()
 */
export function indexerService(parameters: IndexerServiceParameters): ManagedService {
  const { configFile, port, logDir } = parameters
  const url = `http://127.0.0.1:${port}`
  const database = path.join(logDir, 'indexer-db')
  // The package's own link (pnpm): ponder does not export its package.json to resolve.
  const ponderBin = path.join(indexerDir, 'node_modules/ponder/dist/esm/bin/ponder.js')
  const chains = (
    JSON.parse(fs.readFileSync(configFile, 'utf8')) as { chains: { id: number; rpcUrl: string }[] }
  ).chains
  return defineService({
    name: 'indexer',
    url,
    spawn: () => {
      fs.rmSync(database, { recursive: true, force: true })
      return spawnChild({
        name: 'indexer',
        command: process.execPath,
        args: [ponderBin, 'start', '--schema', 'sso', '--port', String(port), '--hostname', '127.0.0.1'],
        cwd: indexerDir,
        logDir,
        env: {
          ...process.env,
          PONDER_TELEMETRY_DISABLED: 'true',
          SSO_INDEXER_CONFIG: configFile,
          SSO_INDEXER_PGLITE: database,
          // The devnet's database is always the embedded one, whatever the shell says.
          DATABASE_URL: '',
          DATABASE_PRIVATE_URL: '',
        },
      })
    },
    health: async () => {
      const response = await fetch(`${url}/ready`)
      if (response.status !== 200) return false
      const status = (await (await fetch(`${url}/status`)).json()) as Record<
        string,
        { id: number; block: { number: number } }
      >
      for (const chain of chains) {
        const indexed = Object.values(status).find((s) => s.id === chain.id)?.block.number ?? -1
        if (indexed < Number(BigInt((await rpc(chain.rpcUrl, 'eth_blockNumber')) as string))) return false
      }
      return true
    },
    what: `${url}/status caught up with the chains`,
    healthTimeoutMs: 90_000,
    onDeath: parameters.onDeath,
  })
}
