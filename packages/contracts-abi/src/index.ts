export { create2Address, deploymentSalt, deterministicDeployer, entryPoint08 } from './Create2.js'
export {
  type DeploymentContext,
  deploymentPlan,
  devnetOwner,
  isDevnetOnly,
  type PlannedContract,
} from './DeploymentPlan.js'
export { type DeployedChainId, getDeployment, UnknownChainError } from './Deployments.js'
// One `<contractName>Abi` per concrete contract of packages/contracts/src (list kept by scripts/generate.ts).
export {
  accountFactoryAbi,
  allowanceExecutorAbi,
  demoTokenAbi,
  guardianExecutorAbi,
  sessionKeyValidatorAbi,
  sponsorPaymasterAbi,
  ssoAccountAbi,
  webAuthnValidatorAbi,
} from './generated/abis.js'
export { deploymentInputs, deployments } from './generated/deployments.js'
export {
  isSessionForbiddenSelector,
  type SessionForbiddenTarget,
  sessionAccountModules,
  sessionForbiddenSelectors,
  sessionForbiddenTargets,
  sessionSpecBounds,
} from './SessionRules.js'
