/**
 * `@sso/client/session`: session keys for dapps. Create the manager, pass it to `createProvider`,
 * and build specs with the policy helpers.
 *
 * @example
 * ```ts
 * import { createProvider } from '@sso/client'
 * import { allowance, callPolicy, createSessionManager, lifetime, transferPolicy } from '@sso/client/session'
 * const session = createSessionManager({ onOutOfPolicy: 'popup' })
 * const provider = createProvider({ authServerUrl, chains, session })
 * button.onclick = () =>
 *   provider.request({
 *     method: 'wallet_grantPermissions',
 *     params: [{ expiresAt, feeLimit: lifetime(parseEther('0.01')), transferPolicies: [transferPolicy({ … })] }],
 *   })
 * ```
 */

// The SessionKeyValidator's rules shared with the popup and the contract (docs/interfaces.md).
export {
  type SessionForbiddenTarget,
  sessionAccountModules,
  sessionForbiddenSelectors,
  sessionForbiddenTargets,
  sessionSpecBounds,
} from '@sso/contracts-abi'
export {
  createSessionManager,
  type SessionManager,
  type SessionManagerOptions,
  type SessionRecord,
} from '../Session.js'
export {
  encodeSessionSignature,
  getSessionState,
  type SessionAccount,
  sessionKeyValidatorAbi,
  toSessionAccount,
} from '../SessionAccount.js'
export type { SessionEventInfo, SessionEvents, SessionHandler } from '../SessionHandler.js'
export {
  checkSessionCalls,
  type SessionCall,
  SessionPolicyError,
  type SessionPolicyRule,
  type SessionPolicyViolation,
  type SessionState,
  type SessionStatus,
} from '../SessionPolicy.js'
export {
  canUseWebCryptoKeys,
  createIdbKeyStore,
  createMemoryKeyStore,
  createP256SessionSigner,
  createSecp256k1SessionSigner,
  loadSessionSigner,
  normalizeP256Signature,
  type SessionKeyStore,
  type SessionSigner,
  sessionDigest,
} from '../SessionSigner.js'
export {
  type ArgConstraint,
  allowance,
  type CallPolicy,
  type Condition,
  type Constraint,
  callPolicy,
  InvalidSessionSpecError,
  lifetime,
  type SessionSpec,
  type SessionSpecRule,
  sessionSpecFromWire,
  sessionSpecToWire,
  type TransferPolicy,
  transferPolicy,
  type UsageLimit,
  unlimited,
} from '../SessionSpec.js'
export {
  decodeSessionSpec,
  encodeSessionSpec,
  InvalidSessionSpecEncodingError,
  sessionId,
} from '../SessionSpecEncoding.js'
export { forbiddenSelectors, validateSessionSpec } from '../SessionSpecValidation.js'
