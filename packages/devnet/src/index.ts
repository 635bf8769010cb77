export { type ChainClock, increaseTime, resetTime } from './Clock.js'
export {
  ChildProcessError,
  DeploymentMismatchError,
  DevnetError,
  InvalidOptionError,
  PortInUseError,
} from './Errors.js'
export {
  anvilKeys,
  type PortOption,
  type Ports,
  type SsoConfig,
  type SsoConfigChain,
  type Stack,
  type StackContracts,
  type StartStackOptions,
  startStack,
} from './Stack.js'
export { type StaticServer, startStaticServer } from './StaticServer.js'
