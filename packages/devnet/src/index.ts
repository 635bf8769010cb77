export { type ChainClock, increaseTime, resetTime } from './Clock.js'
export {
  type CheckUserOperationParameters,
  checkUserOperation,
  type Erc7562Check,
  formatViolations,
  readStake,
} from './Erc7562.js'
export {
  ChildProcessError,
  DeploymentMismatchError,
  DevnetError,
  InvalidOptionError,
  PortInUseError,
} from './Errors.js'
export {
  defaultMinStake,
  defaultMinUnstakeDelay,
  defaultPrecompiles,
  type Erc7562Context,
  type Erc7562Entity,
  type Erc7562Phase,
  type Erc7562Report,
  type Erc7562Rule,
  type Erc7562Stake,
  type Erc7562Violation,
} from './internal/erc7562/rules.js'
export type { StructLog } from './internal/erc7562/structLog.js'
export { analyzeValidationTrace } from './internal/erc7562/trace.js'
export {
  createSponsor,
  devnetSponsorshipPolicy,
  type PaymasterService,
  PaymasterServiceError,
  paymasterErrorCodes,
  type RefusalReason,
  type SponsorshipPolicy,
  startPaymasterService,
} from './PaymasterService.js'
export type { ManagedService, Service } from './Service.js'
export {
  demoToken,
  type SsoConfig,
  type SsoConfigChain,
  type StackContracts,
  type TokenInfo,
} from './SsoConfig.js'
export { anvilKeys, type Stack, startStack } from './Stack.js'
export type { PortOption, Ports, StartStackOptions } from './StackOptions.js'
export { type StaticServer, startStaticServer } from './StaticServer.js'
export { type AltoServiceParameters, altoService } from './services/alto.js'
export { type AnvilServiceParameters, anvilService } from './services/anvil.js'
