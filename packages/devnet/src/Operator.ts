/**
 * Deploying SSO to a real chain (docs/deploy.md, "Contracts"): what `pnpm deploy:contracts` plans and does. The same
 * CREATE2 deployment as the devnet's, signed by an operator's key, idempotent: every step first reads the chain and
 * is planned only when something is missing.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { deterministicDeployer, entryPoint08, isDevnetOnly, sponsorPaymasterAbi } from '@sso/contracts-abi'
import { ensureContractsBuilt, resolveDeployments } from '@sso/contracts-abi/artifacts'
import {
  type Account,
  type Address,
  bytesToHex,
  concatHex,
  createPublicClient,
  createWalletClient,
  formatEther,
  http,
  type PublicClient,
  zeroAddress,
} from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import {
  deployCreate2,
  deployEntryPoint,
  ensureDeterministicDeployer,
  entityStake,
  fundPaymaster,
  hasCode,
  setPaymasterSigner,
  stakedEntities,
  stakeEntity,
} from './Deploy.js'
import { DevnetError } from './Errors.js'

function sameAddress(a: Address, b: Address): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

/** The P-256 verification precompile (RIP-7212 / EIP-7951). */
export const p256Precompile: Address = '0x0000000000000000000000000000000000000100'

/** One step of a deployment: what it does, and how (not run in a dry run). */
export type DeployStep = { what: string; run: () => Promise<void> }

/** What a deployment found on the chain and what it would do there. */
export type DeploymentPlan = {
  chainId: number
  sender: Address
  owner: Address
  /** Whether the chain verifies P-256 signatures natively (else OZ's Solidity fallback: ~250k gas more per passkey). */
  p256Precompile: boolean
  /** Our contracts and the EntryPoint, by manifest key, at their CREATE2 addresses. */
  addresses: Record<string, Address>
  steps: DeployStep[]
  /** Things the operator must know or do by hand. */
  warnings: string[]
}

export type DeployOptions = {
  rpcUrl: string
  /** The key that signs and pays (never taken from a command-line flag). */
  account: Account
  /** Owner of the AccountFactory and the SponsorPaymaster (their stake, the paymaster's funds). Default: the sender. */
  owner?: Address | undefined
  /** Stake the AccountFactory and the SponsorPaymaster in the EntryPoint (what public bundlers require). */
  stake?: boolean | undefined
  /** Top the SponsorPaymaster's EntryPoint deposit up to this many wei. */
  paymasterDeposit?: bigint | undefined
  /**
   * The SponsorPaymaster's verifying signer: the key of your ERC-7677 paymaster service (docs/paymaster.md). Without
   * one the paymaster pays for every userOp that names it.
   */
  paymasterSigner?: Address | undefined
  log?: ((line: string) => void) | undefined
}

/** Calls the P-256 precompile with a fresh valid signature: true when it answers 1. */
async function hasP256Precompile(client: PublicClient): Promise<boolean> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const message = Buffer.from('sso p256 probe')
  const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  const jwk = publicKey.export({ format: 'jwk' })
  const hash = createHash('sha256').update(message).digest()
  const data = concatHex([
    bytesToHex(hash),
    bytesToHex(signature),
    bytesToHex(Buffer.from(jwk.x ?? '', 'base64url')),
    bytesToHex(Buffer.from(jwk.y ?? '', 'base64url')),
  ])
  try {
    const { data: result } = await client.call({ to: p256Precompile, data })
    return result !== undefined && BigInt(result) === 1n
  } catch {
    return false
  }
}

/**
 * Reads the chain and plans the deployment: the deterministic deployer, the EntryPoint v0.8, each of our contracts
 * not yet at its address, the stakes and the paymaster deposit. Running the plan's steps in order deploys; a second
 * plan after that has no step.
 */
export async function planDeployment(options: DeployOptions): Promise<DeploymentPlan> {
  const log = options.log ?? (() => {})
  const publicClient = createPublicClient({ transport: http(options.rpcUrl) })
  const wallet = createWalletClient({ account: options.account, transport: http(options.rpcUrl) })
  const clients = { public: publicClient, wallet }
  const owner = options.owner ?? options.account.address
  const chainId = await publicClient.getChainId()
  await ensureContractsBuilt({ log })
  // The demo token is for the devnets; a real chain gets only the wallet's contracts.
  const planned = resolveDeployments({ entryPoint: entryPoint08.address, owner }).filter(
    (deployment) => !isDevnetOnly(deployment.name),
  )
  const addresses: Record<string, Address> = { entryPoint: entryPoint08.address }
  for (const deployment of planned) addresses[deployment.key] = deployment.address

  const steps: DeployStep[] = []
  const warnings: string[] = []
  const p256 = await hasP256Precompile(publicClient)
  if (!p256) {
    warnings.push(
      `Chain ${chainId} has no P-256 precompile at ${p256Precompile}: passkeys verify with the Solidity fallback, ~250,000 gas more per passkey operation.`,
    )
  }
  if (!(await hasCode(publicClient, deterministicDeployer.address))) {
    steps.push({
      what: `install the deterministic deployer at ${deterministicDeployer.address} (fund its signer ${formatEther(deterministicDeployer.cost)} ETH, broadcast its presigned transaction)`,
      run: () => ensureDeterministicDeployer(clients),
    })
  }
  const entryPointPresent = await hasCode(publicClient, entryPoint08.address)
  if (!entryPointPresent) {
    steps.push({
      what: `deploy the EntryPoint v0.8 at ${entryPoint08.address}`,
      run: async () => void (await deployEntryPoint(clients)),
    })
  }
  for (const deployment of planned) {
    if (await hasCode(publicClient, deployment.address)) continue
    steps.push({
      what: `deploy ${deployment.name} at ${deployment.address}`,
      run: async () => void (await deployCreate2(clients, deployment)),
    })
  }
  for (const entity of stakedEntities(planned)) {
    const info = entryPointPresent
      ? await publicClient.readContract({
          address: entryPoint08.address,
          abi: entryPoint08Abi,
          functionName: 'getDepositInfo',
          args: [entity.address],
        })
      : { staked: false, stake: 0n, unstakeDelaySec: 0 }
    if (info.staked && info.stake >= entityStake.value && info.unstakeDelaySec >= entityStake.unstakeDelaySec)
      continue
    const how = `addStake(${entityStake.unstakeDelaySec}) with ${formatEther(entityStake.value)} ETH`
    if (!options.stake) {
      warnings.push(
        `${entity.name} is not staked: public bundlers refuse its userOps (docs/erc7562.md). Run again with --stake, or have its owner call ${how}.`,
      )
    } else if (!sameAddress(owner, options.account.address)) {
      warnings.push(
        `${entity.name} is owned by ${owner}, not the sender: its owner must call ${entity.address}.${how}.`,
      )
    } else {
      steps.push({ what: `stake the ${entity.name}: ${how}`, run: () => stakeEntity(clients, entity) })
    }
  }
  const paymaster = addresses.sponsorPaymaster
  if (paymaster && options.paymasterDeposit !== undefined) {
    const deposit = options.paymasterDeposit
    const balance = entryPointPresent
      ? await publicClient.readContract({
          address: entryPoint08.address,
          abi: entryPoint08Abi,
          functionName: 'balanceOf',
          args: [paymaster],
        })
      : 0n
    if (balance < deposit) {
      steps.push({
        what: `top the SponsorPaymaster's EntryPoint deposit up from ${formatEther(balance)} to ${formatEther(deposit)} ETH`,
        run: () => fundPaymaster(clients, paymaster, deposit),
      })
    }
  }
  if (paymaster) {
    const current =
      (await hasCode(publicClient, paymaster)) &&
      (await publicClient.readContract({
        address: paymaster,
        abi: sponsorPaymasterAbi,
        functionName: 'verifyingSigner',
      }))
    const wanted = options.paymasterSigner
    if (wanted && !(current && sameAddress(current, wanted))) {
      if (sameAddress(owner, options.account.address))
        steps.push({
          what: `make ${wanted} the SponsorPaymaster's verifying signer`,
          run: () => setPaymasterSigner(clients, paymaster, wanted),
        })
      else
        warnings.push(
          `The SponsorPaymaster is owned by ${owner}, not the sender: its owner must call ${paymaster}.setVerifyingSigner(${wanted}).`,
        )
    } else if (!wanted && (!current || current === zeroAddress)) {
      warnings.push(
        "The SponsorPaymaster has no verifying signer: it pays for every userOp that names it. Give it your paymaster service's signer with --paymaster-signer, or fund it on test networks only.",
      )
    }
  }
  return { chainId, sender: options.account.address, owner, p256Precompile: p256, addresses, steps, warnings }
}

/** Checks every address of `plan` holds code (a CREATE2 address commits to its init code: code there is ours). */
export async function verifyDeployment(rpcUrl: string, plan: DeploymentPlan): Promise<void> {
  const client = createPublicClient({ transport: http(rpcUrl) })
  const missing: string[] = []
  for (const [key, address] of Object.entries(plan.addresses)) {
    if (!(await hasCode(client, address))) missing.push(`${key} at ${address}`)
  }
  if (missing.length > 0) throw new DevnetError(`No code after the deployment: ${missing.join(', ')}.`)
}

/**
 * The first block in which one of our contracts (not the EntryPoint, which may be far older) holds code: no log of an
 * account of ours can be older, so the apps and the indexer read logs from there (`fromBlock` in `sso-config.json`).
 * A binary search over `eth_getCode` at past blocks; undefined when the node keeps no past state (not an archive
 * node): the apps then read from genesis, which works but long chains' nodes may refuse.
 */
export async function deploymentBlock(rpcUrl: string, plan: DeploymentPlan): Promise<number | undefined> {
  const client = createPublicClient({ transport: http(rpcUrl) })
  const latest = await client.getBlockNumber({ cacheTime: 0 })
  const ours = Object.entries(plan.addresses)
    .filter(([key]) => key !== 'entryPoint')
    .map(([, address]) => address)
  const codeAt = async (address: Address, block: bigint) =>
    ((await client.getCode({ address, blockNumber: block })) ?? '0x') !== '0x'
  let earliest = latest
  try {
    for (const address of ours) {
      if (!(await codeAt(address, earliest))) continue
      let low = 0n
      let high = earliest
      while (low < high) {
        const middle = (low + high) / 2n
        if (await codeAt(address, middle)) high = middle
        else low = middle + 1n
      }
      earliest = low
    }
  } catch {
    return undefined
  }
  return Number(earliest)
}

/** The manifest entry of a deployment: what `/sso-config.json` and the client need for this chain. */
export type DeploymentManifest = {
  chainId: number
  owner: Address
  p256Precompile: boolean
  /** The block our contracts were deployed in: where the apps and the indexer start reading logs. */
  fromBlock?: number | undefined
  contracts: Record<string, Address>
}

export function manifestOf(plan: DeploymentPlan, fromBlock?: number): DeploymentManifest {
  return {
    chainId: plan.chainId,
    owner: plan.owner,
    p256Precompile: plan.p256Precompile,
    ...(fromBlock === undefined ? {} : { fromBlock }),
    contracts: plan.addresses,
  }
}
