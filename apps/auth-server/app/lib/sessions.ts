/**
 * Sessions in the popup (docs/architecture.md, section 5): the dapp's spec is validated again here (never trust the dapp), summarised
 * for the user, and created / revoked with a passkey-signed user operation on the SessionKeyValidator.
 */
import type { SsoAccount } from '@sso/client/account'
import { moduleTypeIds } from '@sso/client/modules'
import type { RpcSchema } from '@sso/client/popup'
import {
  encodeSessionSpec,
  InvalidSessionSpecError,
  type SessionSpec,
  sessionId as sessionIdOf,
  sessionKeyValidatorAbi,
  sessionSpecFromWire,
  validateSessionSpec,
} from '@sso/client/session'
import { deployments, sessionAccountModules, ssoAccountAbi } from '@sso/contracts-abi'
import { type Address, encodeFunctionData, type Hex } from 'viem'
import { reactive } from 'vue'
import { getPublicClient } from './chains'
import type { SsoChainConfig } from './config'
import { AccountError } from './errors'
import { gasPayer, type SignedOperation, sendCalls, waitForUserOperation } from './userOperations'

/** Whether the current session screen needs the acknowledgement box ticked before Approve is enabled. */
export const sessionApproval = reactive({ needsAck: false, ack: false })

/** The SessionKeyValidator of a chain: from `/sso-config.json`, else the `@sso/contracts-abi` manifest. */
export function sessionValidatorOf(chain: SsoChainConfig): Address {
  const configured = (chain.contracts as Record<string, Address | undefined>).sessionKeyValidator
  const known = (deployments as Record<number, { sessionKeyValidator?: Address }>)[chain.id]
    ?.sessionKeyValidator
  const address = configured ?? known
  if (!address) throw new AccountError(`Chain ${chain.id} has no sessionKeyValidator in its configuration.`)
  return address
}

/**
 * The targets a session may never call on this chain besides the account and the EntryPoint: the modules every
 * account is created with (`sessionAccountModules`, the list the client and the contract share).
 */
export function bannedTargetsOf(chain: SsoChainConfig): Address[] {
  const c = chain.contracts as Record<string, Address | undefined>
  return sessionAccountModules({
    sessionKeyValidator: sessionValidatorOf(chain),
    webAuthnValidator: c.webAuthnValidator,
    guardianExecutor: c.guardianExecutor,
  })
}

/** The chain's latest block time (the contract compares expiry against it). */
export async function chainNow(chain: SsoChainConfig): Promise<number> {
  const block = await getPublicClient(chain).getBlock({ blockTag: 'latest' })
  return Number(block.timestamp)
}

/** Validates a dapp's spec with the same rules as the client (throws `InvalidSessionSpecError`, -32602). */
export function checkSpec(
  wire: RpcSchema.SessionSpecWire,
  context: { chain: SsoChainConfig; account: Address | undefined; now: number },
): SessionSpec {
  return validateSessionSpec(sessionSpecFromWire(wire), {
    now: context.now,
    account: context.account,
    bannedTargets: bannedTargetsOf(context.chain),
  })
}

/** The module types a session target is checked against, as the SessionKeyValidator does at `createSession`. */
const targetModuleTypes = [
  { id: BigInt(moduleTypeIds.validator), name: 'a validator' },
  { id: BigInt(moduleTypeIds.executor), name: 'an executor' },
  { id: BigInt(moduleTypeIds.fallback), name: 'a fallback handler' },
] as const

/**
 * Refuses a spec that names a module installed on the account now (`InvalidSessionSpecError`, rule
 * `banned-target`): a validator, an executor, or the fallback handler of any selector. `checkSpec` knows only the
 * modules every account is created with; one the account added later (the AllowanceExecutor, a module the user
 * installed) is refused by the SessionKeyValidator at `createSession` and at every use, and here before the passkey
 * is asked. Nothing to check for an account that is not deployed yet (it has only the default modules).
 */
export async function checkSpecTargetsOnChain(
  spec: SessionSpec,
  context: { chain: SsoChainConfig; account: Address | undefined },
): Promise<void> {
  const { chain, account } = context
  if (!account) return
  const client = getPublicClient(chain)
  if (!(await client.getCode({ address: account }))) return
  const targets = [
    ...spec.callPolicies.map((policy, i) => ({ target: policy.target, path: `callPolicies[${i}].target` })),
    ...spec.transferPolicies.map((policy, i) => ({
      target: policy.target,
      path: `transferPolicies[${i}].target`,
    })),
  ]
  const checks = targets.flatMap(({ target, path }) =>
    targetModuleTypes.map(async (type) => {
      const installed = await client.readContract({
        address: account,
        abi: ssoAccountAbi,
        functionName: 'isModuleInstalled',
        args: [type.id, target, '0x'],
      })
      return installed ? { target, path, type: type.name } : undefined
    }),
  )
  const found = (await Promise.all(checks)).find((check) => check !== undefined)
  if (found)
    throw new InvalidSessionSpecError(
      'banned-target',
      found.path,
      `${found.target} is installed on your account as ${found.type}: a session never calls the account's modules.`,
    )
}

/**
 * Creates the session: one passkey-signed user operation calling `createSession(spec)` on the SessionKeyValidator
 * (the first user operation also deploys the account). Resolves once included.
 */
export async function createSession(parameters: {
  chain: SsoChainConfig
  account: SsoAccount
  spec: SessionSpec
  /** Called once the userOp is signed, right before it goes to the bundler (its hash, the session id, the op). */
  onSending?: ((userOpHash: Hex, sessionId: Hex, signed: SignedOperation) => void) | undefined
}): Promise<{ sessionId: Hex; transactionHash: Hex }> {
  const { chain, account, spec } = parameters
  const hash = await sendCalls({
    chain,
    account,
    calls: [
      {
        to: sessionValidatorOf(chain),
        data: encodeFunctionData({
          abi: sessionKeyValidatorAbi,
          functionName: 'createSession',
          args: [encodeSessionSpec(spec)],
        }),
      },
    ],
    payer: gasPayer(chain),
    onSending: (userOpHash, signed) => parameters.onSending?.(userOpHash, sessionIdOf(spec), signed),
  })
  const receipt = await waitForUserOperation(chain, hash)
  return { sessionId: sessionIdOf(spec), transactionHash: receipt.receipt.transactionHash }
}

/** Revokes one session (`revokeSession(id)`) or all (`revokeAllSessions()`) with a passkey-signed user operation. */
export async function revokeSession(parameters: {
  chain: SsoChainConfig
  account: SsoAccount
  which: { id: Hex } | { all: true }
  /** Called once the userOp is signed, right before it goes to the bundler. */
  onSending?: ((userOpHash: Hex, signed: SignedOperation) => void) | undefined
}): Promise<{ transactionHash: Hex }> {
  const { chain, account, which } = parameters
  const hash = await sendCalls({
    chain,
    account,
    calls: [revokeCall(chain, which)],
    payer: gasPayer(chain),
    onSending: parameters.onSending,
  })
  const receipt = await waitForUserOperation(chain, hash)
  return { transactionHash: receipt.receipt.transactionHash }
}

/**
 * The SessionKeyValidator call that revokes one session (`revokeSession`), several (`revokeSessions`) or every
 * session of the account on the chain (`revokeAllSessions`).
 */
export function revokeCall(
  chain: SsoChainConfig,
  which: { id: Hex } | { ids: readonly Hex[] } | { all: true },
): { to: Address; data: Hex } {
  const data =
    'all' in which
      ? encodeFunctionData({ abi: sessionKeyValidatorAbi, functionName: 'revokeAllSessions' })
      : 'ids' in which
        ? encodeFunctionData({
            abi: sessionKeyValidatorAbi,
            functionName: 'revokeSessions',
            args: [which.ids],
          })
        : encodeFunctionData({ abi: sessionKeyValidatorAbi, functionName: 'revokeSession', args: [which.id] })
  return { to: sessionValidatorOf(chain), data }
}
