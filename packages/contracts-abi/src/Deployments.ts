import type { Address } from 'viem'
import { deployments } from './generated/deployments.js'

/** Chain ids that have a deployment manifest. */
export type DeployedChainId = keyof typeof deployments

/** Thrown by `getDeployment` for a chain without a manifest. */
export class UnknownChainError extends Error {
  override name = 'UnknownChainError'
  constructor(readonly chainId: number) {
    super(`No SSO deployment for chain ${chainId} (known: ${Object.keys(deployments).join(', ')}).`)
  }
}

/**
 * The contract addresses of one chain (`entryPoint` plus the camelCase name of each of our contracts).
 *
 * @example
 * const { entryPoint, accountFactory } = getDeployment(31337)
 */
export function getDeployment(chainId: number): Readonly<Record<string, Address>> & { entryPoint: Address } {
  const deployment = (deployments as Record<number, Record<string, Address> & { entryPoint: Address }>)[
    chainId
  ]
  if (!deployment) throw new UnknownChainError(chainId)
  return deployment
}
