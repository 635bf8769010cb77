/**
 * `@sso/client`: the dapp SDK. The EIP-1193 provider talks to the SSO auth server popup.
 * Other entries: `@sso/client/schema` (the popup protocol), `@sso/client/popup` (the popup end, for the auth
 * server), `@sso/client/wagmi` (wagmi connector), `@sso/client/account` (viem SmartAccount of an SSO account),
 * `@sso/client/testing` (a software P-256 passkey for tests and benchmarks).
 */
export { type AnnounceProviderOptions, announceProvider, type ProviderInfo } from './Eip6963.js'
export { UnsupportedPermissionError } from './Erc7715.js'
export * as Errors from './Errors.js'
export {
  BaseError,
  PopupBlockedError,
  RpcError,
  TimeoutError,
  UserRejectedRequestError,
} from './Errors.js'
export { confirmUrl } from './Messenger.js'
export { createPopup, type Popup, type PopupOptions } from './Popup.js'
export {
  type ChainConfig,
  createProvider,
  forwardedMethods,
  type Provider,
  type ProviderEvents,
  type ProviderOptions,
  type ProviderStorage,
  type RequestArguments,
} from './Provider.js'
export * as RpcSchema from './RpcSchema.js'
