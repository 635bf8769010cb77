/**
 * `@sso/client/account`: the SSO account as a viem `SmartAccount` (EntryPoint v0.8), shared by the auth server,
 * the tests and the benchmarks, with its encoders and the reads a login on a new device needs.
 *
 * @example
 * ```ts
 * import { toSsoAccount } from '@sso/client/account'
 * const account = await toSsoAccount({ client, credential, sign, contracts })
 * const bundler = createBundlerClient({ account, client, transport: http(bundlerUrl) })
 * await bundler.sendUserOperation({ calls: [{ to, value }] })
 * ```
 */
export { type Call, decodeCalls, encodeCalls, modeBatch, modeSingle, nonceKey } from '../Execution.js'
export { findPasskeyAccounts, getPasskey } from '../PasskeyLookup.js'
export {
  accountAbi,
  accountDomain,
  accountFactoryAbi,
  type SsoAccount,
  type SsoAccountImplementation,
  type SsoContracts,
  type SsoCredential,
  type SsoSign,
  type ToSsoAccountParameters,
  toSsoAccount,
  webAuthnValidatorAbi,
} from '../SsoAccount.js'
export { estimateUserOperationFees, isDeployed } from '../UserOperation.js'
export {
  credentialIdHash,
  credentialKey,
  decodeWebAuthnSignature,
  dummySignature,
  encodeWebAuthnSignature,
  registrationChallenge,
  registrationTypeHash,
  type SignatureCredential,
} from '../WebAuthnSignature.js'
