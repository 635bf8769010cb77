// The ABIs are generated: one `<contractName>Abi` per concrete contract of packages/contracts/src.

export { create2Address, deploymentSalt, deterministicDeployer, entryPoint08 } from './Create2.js'
export {
  type DeploymentContext,
  deploymentPlan,
  devnetOwner,
  type PlannedContract,
} from './DeploymentPlan.js'
export { type DeployedChainId, getDeployment, UnknownChainError } from './Deployments.js'
export * from './generated/abis.js'
export { deploymentInputs, deployments } from './generated/deployments.js'
