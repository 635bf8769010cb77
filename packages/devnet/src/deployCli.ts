/**
 * `pnpm deploy:contracts --rpc-url <url>`: deploys SSO's contracts to a chain (docs/deploy.md, "Contracts").
 *
 *   --rpc-url <url>              the chain's JSON-RPC endpoint (required)
 *   --owner <address>            owner of the AccountFactory and the SponsorPaymaster (default: the deployer)
 *   --stake                      stake the AccountFactory and the SponsorPaymaster (1 ETH, 1 day) when unstaked
 *   --paymaster-deposit <eth>    top the SponsorPaymaster's EntryPoint deposit up to this amount
 *   --paymaster-signer <address> the SponsorPaymaster's verifying signer (your ERC-7677 paymaster service's key)
 *   --manifest <file>            where to write the manifest (default deployments/<chainId>.json)
 *   --dry-run                    print what would be done, send nothing
 *
 * The deployer key comes from the SSO_DEPLOYER_KEY environment variable or, on a terminal, a prompt that does not
 * echo: never from a flag, which would land in the shell's history.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { type Address, getAddress, type Hex, isAddress, isHex, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DevnetError } from './Errors.js'
import { deploymentBlock, manifestOf, planDeployment, verifyDeployment } from './Operator.js'
import { repoRoot } from './WebApps.js'

const usage =
  'Usage: pnpm deploy:contracts --rpc-url <url> [--owner <address>] [--stake] [--paymaster-deposit <eth>] [--paymaster-signer <address>] [--manifest <file>] [--dry-run]\n' +
  'The deployer key comes from SSO_DEPLOYER_KEY or an interactive prompt.'

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const input = process.stdin
  process.stderr.write(question)
  input.setRawMode(true)
  input.resume()
  input.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    let value = ''
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          input.setRawMode(false)
          input.pause()
          input.off('data', onData)
          process.stderr.write('\n')
          resolve(value)
          return
        }
        if (char === '\u0003') {
          input.setRawMode(false)
          reject(new DevnetError('Cancelled.'))
          return
        }
        value = char === '\u007f' ? value.slice(0, -1) : value + char
      }
    }
    input.on('data', onData)
  })
}

async function deployerKey(): Promise<Hex> {
  let key = process.env.SSO_DEPLOYER_KEY?.trim()
  if (!key) {
    if (!process.stdin.isTTY) {
      throw new DevnetError(
        'No deployer key: set SSO_DEPLOYER_KEY (or run on a terminal to be asked for it).',
      )
    }
    key = (await promptHidden('Deployer private key (not echoed): ')).trim()
  }
  const prefixed = key.startsWith('0x') ? key : `0x${key}`
  if (!isHex(prefixed) || prefixed.length !== 66)
    throw new DevnetError('The deployer key must be 32 bytes of hex.')
  return prefixed
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      'rpc-url': { type: 'string' },
      owner: { type: 'string' },
      stake: { type: 'boolean', default: false },
      'paymaster-deposit': { type: 'string' },
      'paymaster-signer': { type: 'string' },
      manifest: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    return
  }
  const rpcUrl = values['rpc-url']
  if (!rpcUrl) throw new DevnetError(`--rpc-url is required.\n${usage}`)
  if (values.owner !== undefined && !isAddress(values.owner))
    throw new DevnetError(`--owner is not an address: ${values.owner}`)
  const signer = values['paymaster-signer']
  if (signer !== undefined && !isAddress(signer))
    throw new DevnetError(`--paymaster-signer is not an address: ${signer}`)
  let paymasterDeposit: bigint | undefined
  if (values['paymaster-deposit'] !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(values['paymaster-deposit']))
      throw new DevnetError(
        `--paymaster-deposit must be an amount of ETH, got ${values['paymaster-deposit']}`,
      )
    paymasterDeposit = parseEther(values['paymaster-deposit'])
  }
  const account = privateKeyToAccount(await deployerKey())
  const owner: Address | undefined = values.owner ? getAddress(values.owner) : undefined
  const log = (line: string) => console.error(`[deploy] ${line}`)

  const plan = await planDeployment({
    rpcUrl,
    account,
    owner,
    stake: values.stake,
    paymasterDeposit,
    paymasterSigner: signer ? getAddress(signer) : undefined,
    log,
  })
  log(`chain ${plan.chainId}, sender ${plan.sender}, owner ${plan.owner}`)
  log(`P-256 precompile: ${plan.p256Precompile ? 'present' : 'MISSING'}`)
  for (const warning of plan.warnings) log(`warning: ${warning}`)
  if (plan.steps.length === 0) log('nothing to do: everything is deployed')
  for (const [index, step] of plan.steps.entries()) {
    log(`${values['dry-run'] ? 'would' : `${index + 1}/${plan.steps.length}`} ${step.what}`)
    if (!values['dry-run']) await step.run()
  }
  if (values['dry-run']) {
    log('dry run: nothing was sent')
    return
  }
  await verifyDeployment(rpcUrl, plan)
  const fromBlock = await deploymentBlock(rpcUrl, plan)
  if (fromBlock === undefined)
    log(
      'warning: the node keeps no past state, so the deployment block is unknown: set fromBlock in sso-config.json by hand',
    )
  const manifest = manifestOf(plan, fromBlock)
  const file = path.resolve(values.manifest ?? path.join(repoRoot, 'deployments', `${plan.chainId}.json`))
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
  log(`verified: code at every address; manifest written to ${file}`)
  console.log(JSON.stringify(manifest, null, 2))
}

try {
  await main()
} catch (error) {
  console.error(`[deploy] ${error instanceof DevnetError ? error.message : error}`)
  if (!(error instanceof DevnetError) && error instanceof Error && error.stack) console.error(error.stack)
  process.exit(1)
}
