/**
 * The SessionKeyValidator's rules that the client and the popup check before the chain does: what no session may
 * call, and how large a session spec may be. One list for both sides (docs/interfaces.md, "Forbidden session
 * calls"); `packages/client/src/SessionRules.chain.test.ts` proves it equal to what the deployed contract enforces.
 */
import type { Address, Hex } from 'viem'
import { entryPoint08 } from './Create2.js'

/**
 * The selectors no session may call, on any target: `SessionKeyValidator.forbiddenSelectors()`, in its order.
 */
export const sessionForbiddenSelectors = [
  { selector: '0x9517e29f', signature: 'installModule(uint256,address,bytes)' },
  { selector: '0xa71763a8', signature: 'uninstallModule(uint256,address,bytes)' },
  { selector: '0x4f1ef286', signature: 'upgradeToAndCall(address,bytes)' },
  { selector: '0x3659cfe6', signature: 'upgradeTo(address)' },
] as const satisfies readonly { selector: Hex; signature: string }[]

/**
 * Whether no session may call `selector` (any case).
 *
 * @example
 * ```ts
 * isSessionForbiddenSelector('0x9517e29f') // true: installModule
 * ```
 */
export function isSessionForbiddenSelector(selector: string): boolean {
  const lower = selector.toLowerCase()
  return sessionForbiddenSelectors.some((entry) => entry.selector === lower)
}

/** A target no session may call, and what it is (for messages). */
export type SessionForbiddenTarget = { address: Address; what: string }

/**
 * The targets no session of `account` may call. First `SessionKeyValidator.forbiddenTargets(account)`: the account
 * itself, the SessionKeyValidator and the EntryPoint; then `modules`, which the validator forbids because they are
 * installed on the account: pass {@link sessionAccountModules} of the chain (and any module the account added).
 * A member left undefined is left out.
 *
 * @example
 * ```ts
 * sessionForbiddenTargets({ account, sessionKeyValidator, modules: sessionAccountModules(contracts) })
 * ```
 */
export function sessionForbiddenTargets(parameters: {
  account?: Address | undefined
  sessionKeyValidator?: Address | undefined
  modules?: readonly Address[] | undefined
}): SessionForbiddenTarget[] {
  const { account, sessionKeyValidator, modules = [] } = parameters
  const targets: SessionForbiddenTarget[] = []
  if (account) targets.push({ address: account, what: 'the account itself' })
  if (sessionKeyValidator) targets.push({ address: sessionKeyValidator, what: 'the SessionKeyValidator' })
  targets.push({ address: entryPoint08.address, what: 'the EntryPoint' })
  for (const module of modules) targets.push({ address: module, what: 'a module of the account' })
  return targets
}

/**
 * The modules every SSO account is created with (the AccountFactory installs them, see `DeploymentPlan.ts`), which
 * no session may call while they are installed: the WebAuthnValidator, the GuardianExecutor and the
 * SessionKeyValidator itself. Takes a chain's contract addresses (`/sso-config.json` or the manifest).
 */
export function sessionAccountModules(contracts: {
  sessionKeyValidator?: Address | undefined
  webAuthnValidator?: Address | undefined
  guardianExecutor?: Address | undefined
}): Address[] {
  return [contracts.sessionKeyValidator, contracts.webAuthnValidator, contracts.guardianExecutor].filter(
    (address): address is Address => typeof address === 'string',
  )
}

/**
 * How large a session spec may be: what the wire schema (`@sso/client` RpcSchema), `validateSessionSpec` and the
 * encoder accept. Amounts, the period and the expiry are the SessionKeyValidator's own bounds (field widths of the
 * packed spec; the fee limit is what its 80-bit fee counter holds). The counts and the constraint index are
 * tighter than the packed format's (255, 255, 65535) to keep a request small; the contract accepts a spec at
 * every one of these bounds.
 */
export const sessionSpecBounds = {
  /** Call policies per spec (the packed count is one byte). */
  maxCallPolicies: 32,
  /** Transfer policies per spec (the packed count is one byte). */
  maxTransferPolicies: 32,
  /** Constraints per call policy (the packed count is one byte). */
  maxConstraints: 16,
  /** The calldata word a constraint reads (packed as uint16). */
  maxConstraintIndex: 1024,
  /** Every usage limit and `maxValuePerUse` (13 bytes). */
  maxUsageLimit: (1n << 104n) - 1n,
  /** The fee limit: the validator's fee counter holds 80 bits (`InvalidUsageLimit` above). */
  maxFeeLimit: (1n << 80n) - 1n,
  /** An allowance period in seconds (uint32). */
  maxAllowancePeriod: 2 ** 32 - 1,
  /** `expiresAt` in unix seconds (uint48). */
  maxExpiresAt: 2 ** 48 - 1,
  /** The packed spec's length: the session userOp signature carries it behind a uint16. */
  maxPackedLength: 0xffff,
} as const
