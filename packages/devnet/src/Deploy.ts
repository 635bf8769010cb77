import { createRequire } from 'node:module'
import {
  create2Address,
  deterministicDeployer,
  devnetOwner,
  entryPoint08,
  deployments as manifest,
  sponsorPaymasterAbi,
} from '@sso/contracts-abi'
import {
  ensureContractsBuilt,
  type ResolvedDeployment,
  resolveDeployments,
} from '@sso/contracts-abi/artifacts'
import {
  type Address,
  concatHex,
  encodeFunctionData,
  type Hex,
  type PublicClient,
  parseAbi,
  parseEther,
  type WalletClient,
} from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { DeploymentMismatchError, DevnetError } from './Errors.js'

const require = createRequire(import.meta.url)

type Clients = { public: PublicClient; wallet: WalletClient }

/** Whether `address` holds code. */
export async function hasCode(client: PublicClient, address: Address): Promise<boolean> {
  const code = await client.getCode({ address })
  return code !== undefined && code !== '0x'
}

async function send(clients: Clients, request: { to: Address; data?: Hex; value?: bigint }, what: string) {
  const hash = await clients.wallet.sendTransaction({
    // A local account (an operator's key) signs itself; otherwise anvil's unlocked devnet owner sends.
    account: clients.wallet.account ?? devnetOwner,
    chain: null,
    to: request.to,
    ...(request.data ? { data: request.data } : {}),
    ...(request.value ? { value: request.value } : {}),
  })
  const receipt = await clients.public.waitForTransactionReceipt({ hash, pollingInterval: 20 })
  if (receipt.status !== 'success') throw new DevnetError(`Transaction failed: ${what} (${hash}).`)
  return receipt
}

/** Installs the deterministic deployer the standard way (fund its signer, broadcast the presigned tx) if absent. */
export async function ensureDeterministicDeployer(clients: Clients): Promise<void> {
  if (await hasCode(clients.public, deterministicDeployer.address)) return
  await send(
    clients,
    { to: deterministicDeployer.signer, value: deterministicDeployer.cost },
    'fund the deployer signer',
  )
  const hash = await clients.public.request({
    method: 'eth_sendRawTransaction',
    params: [deterministicDeployer.rawTransaction],
  })
  await clients.public.waitForTransactionReceipt({ hash, pollingInterval: 20 })
  if (!(await hasCode(clients.public, deterministicDeployer.address))) {
    throw new DevnetError(`Could not install the deterministic deployer at ${deterministicDeployer.address}.`)
  }
}

/** CREATE2-deploys `initCode` through the deterministic deployer unless code already sits at its address. */
export async function deployCreate2(
  clients: Clients,
  parameters: { name: string; salt: Hex; initCode: Hex },
): Promise<Address> {
  const address = create2Address(parameters)
  if (await hasCode(clients.public, address)) return address
  await send(
    clients,
    { to: deterministicDeployer.address, data: concatHex([parameters.salt, parameters.initCode]) },
    `deploy ${parameters.name}`,
  )
  if (!(await hasCode(clients.public, address))) {
    throw new DevnetError(`${parameters.name} has no code at ${address} after its CREATE2 deployment.`)
  }
  return address
}

/** EntryPoint v0.8 at its canonical address (CREATE2 with the canonical salt and the npm artifact's bytecode). */
export async function deployEntryPoint(clients: Clients): Promise<Address> {
  const artifact = require('@account-abstraction/contracts/artifacts/EntryPoint.json') as { bytecode: Hex }
  const address = create2Address({ salt: entryPoint08.salt, initCode: artifact.bytecode })
  if (address.toLowerCase() !== entryPoint08.address.toLowerCase()) {
    throw new DeploymentMismatchError(
      `The EntryPoint artifact would deploy to ${address}, not the canonical ${entryPoint08.address}: wrong @account-abstraction/contracts version?`,
    )
  }
  return deployCreate2(clients, { name: 'EntryPoint', salt: entryPoint08.salt, initCode: artifact.bytecode })
}

/**
 * Our contracts, planned from forge's artifacts (built first when stale). Fails with DeploymentMismatchError
 * when the addresses differ from the committed @sso/contracts-abi manifest of any of `chainIds`.
 */
export async function planContracts(
  chainIds: number | readonly number[],
  log: (line: string) => void = () => {},
): Promise<ResolvedDeployment[]> {
  await ensureContractsBuilt({ log })
  const planned = resolveDeployments({ entryPoint: entryPoint08.address, owner: devnetOwner })
  for (const chainId of typeof chainIds === 'number' ? [chainIds] : chainIds) checkManifest(chainId, planned)
  return planned
}

function checkManifest(chainId: number, planned: readonly ResolvedDeployment[]): void {
  const expected = (manifest as Record<number, Record<string, Address>>)[chainId]
  if (!expected) {
    throw new DeploymentMismatchError(`The @sso/contracts-abi manifest has no chain ${chainId}.`)
  }
  const problems: string[] = []
  for (const deployment of planned) {
    const address = expected[deployment.key]
    if (!address)
      problems.push(`${deployment.name}: not in the manifest (would deploy at ${deployment.address})`)
    else if (address.toLowerCase() !== deployment.address.toLowerCase()) {
      problems.push(`${deployment.name}: manifest ${address}, artifacts give ${deployment.address}`)
    }
  }
  for (const key of Object.keys(expected)) {
    if (key !== 'entryPoint' && !planned.some((deployment) => deployment.key === key)) {
      problems.push(`${key}: in the manifest but not a contract of packages/contracts/src`)
    }
  }
  if (problems.length > 0) {
    throw new DeploymentMismatchError(
      'The contract addresses differ from the @sso/contracts-abi manifest: run `pnpm --filter @sso/contracts-abi generate` and commit the result.',
      { details: problems.join('\n') },
    )
  }
}

/**
 * The EntryPoint stake of the AccountFactory and of the SponsorPaymaster, as a production deployment needs it
 * (docs/erc7562.md): public bundlers apply ERC-7562, which lets a paymaster read its own storage only when staked
 * (STO-031), and throttle unstaked factories sooner (the factory's deploying userOps touch only the new account's
 * own storage, so ERC-7562 itself no longer needs its stake). Staked means at least MIN_STAKE_VALUE locked for at least MIN_UNSTAKE_DELAY: the public
 * bundlers' defaults are 1 ETH and 1 day, so the devnet stakes exactly that.
 */
export const entityStake = { value: parseEther('1'), unstakeDelaySec: 86_400 } as const

/** The contracts of the plan that stake in the EntryPoint (owner-only `addStake(uint32)`), by key. */
const stakedKeys: readonly string[] = ['accountFactory', 'sponsorPaymaster']

const stakeAbi = parseAbi(['function addStake(uint32 unstakeDelaySec) payable'])

/**
 * Stakes `address` (an owner-only `addStake(uint32)`, sent by the clients' account) unless it already has at least
 * `stake` locked for at least its delay. Idempotent.
 */
export async function stakeEntity(
  clients: Clients,
  entity: { name: string; address: Address },
  stake: { value: bigint; unstakeDelaySec: number } = entityStake,
): Promise<void> {
  const info = await clients.public.readContract({
    address: entryPoint08.address,
    abi: entryPoint08Abi,
    functionName: 'getDepositInfo',
    args: [entity.address],
  })
  if (info.staked && info.stake >= stake.value && info.unstakeDelaySec >= stake.unstakeDelaySec) return
  await send(
    clients,
    {
      to: entity.address,
      data: encodeFunctionData({
        abi: stakeAbi,
        functionName: 'addStake',
        args: [Math.max(stake.unstakeDelaySec, info.unstakeDelaySec)],
      }),
      // addStake re-locks an unlocked stake and tops it up to the amount.
      value: info.stake >= stake.value ? 0n : stake.value - info.stake,
    },
    `stake the ${entity.name}`,
  )
}

/** Tops the EntryPoint deposit of `paymaster` up to `deposit` wei. Idempotent. */
export async function fundPaymaster(clients: Clients, paymaster: Address, deposit: bigint): Promise<void> {
  const balance = await clients.public.readContract({
    address: entryPoint08.address,
    abi: entryPoint08Abi,
    functionName: 'balanceOf',
    args: [paymaster],
  })
  if (balance >= deposit) return
  await send(
    clients,
    {
      to: entryPoint08.address,
      data: encodeFunctionData({ abi: entryPoint08Abi, functionName: 'depositTo', args: [paymaster] }),
      value: deposit - balance,
    },
    'fund the SponsorPaymaster deposit',
  )
}

/**
 * Makes `signer` the SponsorPaymaster's verifying signer (owner-only `setVerifyingSigner`): from then on it pays only
 * for userOps that signer signed (docs/paymaster.md). Idempotent.
 */
export async function setPaymasterSigner(
  clients: Clients,
  paymaster: Address,
  signer: Address,
): Promise<void> {
  const current = await clients.public.readContract({
    address: paymaster,
    abi: sponsorPaymasterAbi,
    functionName: 'verifyingSigner',
  })
  if (current.toLowerCase() === signer.toLowerCase()) return
  await send(
    clients,
    {
      to: paymaster,
      data: encodeFunctionData({
        abi: sponsorPaymasterAbi,
        functionName: 'setVerifyingSigner',
        args: [signer],
      }),
    },
    'set the SponsorPaymaster verifying signer',
  )
}

/** The contracts of the plan that stake in the EntryPoint, by key, if their build has `addStake`. */
export function stakedEntities(planned: readonly ResolvedDeployment[]): ResolvedDeployment[] {
  return planned.filter(
    (deployment) =>
      stakedKeys.includes(deployment.key) &&
      deployment.abi.some((item) => item.type === 'function' && item.name === 'addStake'),
  )
}

/**
 * Deploys the planned contracts (in dependency order), funds the SponsorPaymaster's EntryPoint deposit and stakes
 * the AccountFactory and the SponsorPaymaster ({@link entityStake}; the owner, anvil #0, pays).
 */
export async function deployContracts(
  clients: Clients,
  planned: readonly ResolvedDeployment[],
  options: { paymasterDeposit?: bigint; stake?: { value: bigint; unstakeDelaySec: number } } = {},
): Promise<Record<string, Address>> {
  const addresses: Record<string, Address> = {}
  for (const deployment of planned) {
    addresses[deployment.key] = await deployCreate2(clients, deployment)
  }
  for (const entity of stakedEntities(planned)) await stakeEntity(clients, entity, options.stake)
  const paymaster = addresses.sponsorPaymaster
  if (paymaster) await fundPaymaster(clients, paymaster, options.paymasterDeposit ?? parseEther('1000'))
  return addresses
}
