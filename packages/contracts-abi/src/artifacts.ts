/**
 * Node-only: reads forge's artifacts of packages/contracts and resolves the CREATE2 deployment plan. Used by
 * the generator (scripts/generate.ts) and by the devnet, so both compute the same addresses the same way.
 * Import it as `@sso/contracts-abi/artifacts`; browsers use the generated manifest instead.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Abi, type Address, encodeDeployData, type Hex, keccak256 } from 'viem'
import { create2Address, deploymentSalt } from './Create2.js'
import { type DeploymentContext, deploymentPlan } from './DeploymentPlan.js'

/** Thrown when the contracts can't be built, an artifact is missing or malformed, or the plan can't resolve. */
export class ArtifactError extends Error {
  override name = 'ArtifactError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Absolute path of packages/contracts. */
export const contractsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../contracts')

/** A concrete (deployable) contract declared in packages/contracts/src. */
export type ContractSource = { name: string; file: string }

/** One of our contracts, ready to deploy through the deterministic deployer. */
export type ResolvedDeployment = {
  name: string
  /** camelCase of the name: the key in the manifest and in `/sso-config.json`. */
  key: string
  salt: Hex
  initCode: Hex
  initCodeHash: Hex
  address: Address
  abi: Abi
}

/** `WebAuthnValidator` -> `webAuthnValidator`. */
export function contractKey(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

function walk(dir: string, filter: (file: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return []
  const files: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) files.push(...walk(full, filter))
    else if (filter(full)) files.push(full)
  }
  return files
}

function newestMtime(files: readonly string[]): number {
  let newest = 0
  for (const file of files) newest = Math.max(newest, fs.statSync(file).mtimeMs)
  return newest
}

/**
 * Every contract in packages/contracts/src that is not abstract, an interface or a library, sorted by name.
 *
 * @example
 * findContracts() // [{ name: 'AccountFactory', file: 'AccountFactory.sol' }, …]
 */
export function findContracts(): ContractSource[] {
  const contracts: ContractSource[] = []
  for (const file of walk(path.join(contractsDir, 'src'), (f) => f.endsWith('.sol'))) {
    const source = fs
      .readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '')
    for (const match of source.matchAll(
      /(?:^|[;}\s])(abstract\s+contract|contract|interface|library)\s+([A-Za-z_]\w*)/g,
    )) {
      if (match[1] === 'contract' && match[2]) contracts.push({ name: match[2], file: path.basename(file) })
    }
  }
  return contracts.sort((a, b) => a.name.localeCompare(b.name))
}

function artifactPath(contract: ContractSource): string {
  return path.join(contractsDir, 'out', contract.file, `${contract.name}.json`)
}

function runBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['run', 'build'], { cwd: contractsDir, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on('error', (error) => reject(new ArtifactError(`Could not run forge build: ${error.message}`)))
    child.on('close', (code) => {
      if (code === 0) resolve()
      else
        reject(new ArtifactError(`forge build failed in ${contractsDir} (exit ${code}):\n${output.trim()}`))
    })
  })
}

/**
 * Runs `task` while holding a lock (a directory in the OS temp dir, named after `dir`), so two processes (say `pnpm dev` and the e2e
 * setup) never build into the same output at once. A lock whose owner died, or older than `staleMs`, is taken over.
 *
 * @example
 * await withBuildLock(appDir, async () => { if (isStale()) await build() })
 */
export async function withBuildLock<T>(
  dir: string,
  task: () => Promise<T>,
  staleMs = 10 * 60_000,
): Promise<T> {
  const lock = path.join(
    os.tmpdir(),
    `sso-build-lock-${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 16)}`,
  )
  const owner = path.join(lock, 'owner')
  for (;;) {
    try {
      fs.mkdirSync(lock)
      fs.writeFileSync(owner, String(process.pid))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (isAbandoned(lock, owner, staleMs)) fs.rmSync(lock, { recursive: true, force: true })
      else await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  try {
    return await task()
  } finally {
    fs.rmSync(lock, { recursive: true, force: true })
  }
}

/** A lock whose owner process is gone (killed mid-build), or older than `staleMs`. */
function isAbandoned(lock: string, owner: string, staleMs: number): boolean {
  let age: number
  try {
    age = Date.now() - fs.statSync(lock).mtimeMs
  } catch {
    return false // Released meanwhile.
  }
  if (age > staleMs) return true
  let pid = 0
  try {
    pid = Number(fs.readFileSync(owner, 'utf8'))
  } catch {
    // Not written yet, or its writer died right after mkdir.
  }
  if (!pid) return age > 5000
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * Runs `forge build` (the contracts package's `build` script) when out/ is missing, older than the sources,
 * or lacks an artifact with bytecode. Returns whether it built.
 *
 * @example
 * await ensureContractsBuilt({ log: console.log })
 */
export async function ensureContractsBuilt(options: { log?: (line: string) => void } = {}): Promise<boolean> {
  const contracts = findContracts()
  if (contracts.length === 0) return false
  if (!isBuildStale(contracts)) return false
  return withBuildLock(contractsDir, async () => {
    // Another process may have built while we waited for the lock.
    if (!isBuildStale(contracts)) return false
    options.log?.('building contracts (forge build)…')
    await runBuild()
    return true
  })
}

function isBuildStale(contracts: readonly ContractSource[]): boolean {
  const sources = [
    ...walk(path.join(contractsDir, 'src'), (f) => f.endsWith('.sol')),
    ...['foundry.toml', 'remappings.txt']
      .map((f) => path.join(contractsDir, f))
      .filter((f) => fs.existsSync(f)),
  ]
  const outputs = walk(path.join(contractsDir, 'out'), (f) => f.endsWith('.json'))
  const cache = path.join(contractsDir, 'cache', 'solidity-files-cache.json')
  if (fs.existsSync(cache)) outputs.push(cache)
  return (
    outputs.length === 0 ||
    newestMtime(sources) > newestMtime(outputs) ||
    contracts.some((contract) => !hasBytecode(artifactPath(contract)))
  )
}

/** False for a missing artifact or one without creation bytecode (forge's sparse test builds write ABI only). */
function hasBytecode(file: string): boolean {
  try {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { bytecode?: { object?: string } }
    return (json.bytecode?.object?.length ?? 0) > 2
  } catch {
    return false
  }
}

/**
 * ABI and creation bytecode of one contract from forge's out/.
 *
 * @example
 * readArtifact({ name: 'WebAuthnValidator', file: 'WebAuthnValidator.sol' })
 */
export function readArtifact(contract: ContractSource): { abi: Abi; bytecode: Hex } {
  const file = artifactPath(contract)
  if (!fs.existsSync(file)) {
    throw new ArtifactError(
      `No artifact for ${contract.name} at ${file}: run \`pnpm --filter @sso/contracts build\`.`,
    )
  }
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { abi?: Abi; bytecode?: { object?: string } }
  const object = json.bytecode?.object
  if (!json.abi || typeof object !== 'string' || object.length <= 2) {
    throw new ArtifactError(`Artifact ${file} has no ABI or creation bytecode.`)
  }
  if (object.includes('__$')) {
    throw new ArtifactError(
      `${contract.name} needs linked libraries, which the CREATE2 plan does not support.`,
    )
  }
  return { abi: json.abi, bytecode: (object.startsWith('0x') ? object : `0x${object}`) as Hex }
}

/**
 * Resolves the CREATE2 deployment of every concrete contract in packages/contracts/src: init code (creation
 * bytecode + constructor arguments from the plan), salt and address, in dependency order.
 *
 * @example
 * resolveDeployments({ entryPoint: entryPoint08.address, owner: devnetOwner })
 */
export function resolveDeployments(
  context: Omit<DeploymentContext, 'address' | 'has' | 'inputs'>,
): ResolvedDeployment[] {
  const contracts = new Map(findContracts().map((contract) => [contract.name, contract]))
  const resolved = new Map<string, ResolvedDeployment>()
  const resolving = new Set<string>()

  const resolve = (name: string): ResolvedDeployment => {
    const done = resolved.get(name)
    if (done) return done
    const contract = contracts.get(name)
    if (!contract)
      throw new ArtifactError(`Contract ${name} is not a concrete contract in packages/contracts/src.`)
    if (resolving.has(name)) throw new ArtifactError(`Constructor dependency cycle through ${name}.`)
    resolving.add(name)
    const { abi, bytecode } = readArtifact(contract)
    const planned = deploymentPlan.find((entry) => entry.name === name)
    const constructorItem = abi.find((item) => item.type === 'constructor')
    const inputs = constructorItem && 'inputs' in constructorItem ? constructorItem.inputs : []
    const args = planned
      ? planned.args({
          ...context,
          address: (dependency) => resolve(dependency).address,
          has: (dependency) => contracts.has(dependency),
          inputs,
        })
      : []
    if (args.length !== inputs.length) {
      throw new ArtifactError(
        `${name}'s constructor takes ${inputs.length} argument(s) (${inputs.map((i) => `${i.type} ${i.name ?? ''}`.trim()).join(', ')}) but the deployment plan gives ${args.length}: update packages/contracts-abi/src/DeploymentPlan.ts.`,
      )
    }
    let initCode: Hex
    try {
      initCode = encodeDeployData({ abi, bytecode, args })
    } catch (cause) {
      throw new ArtifactError(
        `Could not encode ${name}'s constructor arguments: ${(cause as Error).message}`,
        {
          cause,
        },
      )
    }
    const salt = deploymentSalt(name)
    const deployment: ResolvedDeployment = {
      name,
      key: contractKey(name),
      salt,
      initCode,
      initCodeHash: keccak256(initCode),
      address: create2Address({ salt, initCode }),
      abi,
    }
    resolving.delete(name)
    resolved.set(name, deployment)
    return deployment
  }

  for (const name of contracts.keys()) resolve(name)
  return [...resolved.values()]
}
