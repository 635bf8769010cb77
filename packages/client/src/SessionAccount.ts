/**
 * Sending with a session: the SSO account as a viem `SmartAccount` whose userOps are validated by the
 * SessionKeyValidator (nonce key = the validator) and signed by the dapp's session key, plus the on-chain state
 * reads (`sessionState`, `sessionStatus`).
 *
 * userOp signature (SessionKeyValidator NatSpec): `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature`
 * (encodePacked, `spec` = the packed spec of {@link encodeSessionSpec}); `timestamp` is the latest block time (it
 * selects the allowance periods and must not be past `expiresAt`), `signerSignature` signs
 * `keccak256(abi.encode(userOpHash, sessionId))` (see SessionSigner): 65 bytes r ‖ s ‖ v for secp256k1, 64 bytes
 * r ‖ s for P-256.
 */
import { sessionKeyValidatorAbi } from '@sso/contracts-abi'
import { type Address, encodePacked, type Hex, size } from 'viem'
import {
  type entryPoint08Abi,
  entryPoint08Address,
  type SmartAccount,
  type SmartAccountImplementation,
} from 'viem/account-abstraction'
import { getBlock, readContract } from 'viem/actions'
import { BaseError } from './Errors.js'
import { toValidatorAccount } from './internal/validatorAccount.js'
import type { SessionState, SessionStatus } from './SessionPolicy.js'
import type { SessionSigner } from './SessionSigner.js'
import type { SessionSpec } from './SessionSpec.js'
import { encodeSessionSpec, sessionId as sessionIdOf } from './SessionSpecEncoding.js'

// The generated SessionKeyValidator ABI. Specs travel as the packed bytes of `encodeSessionSpec`; `sessionStatus`
// answers 0 None, 1 Active or 3 Revoked (expiry is in the spec: `sessionState` reports 2 Expired).
export { sessionKeyValidatorAbi } from '@sso/contracts-abi'

const statuses: readonly SessionStatus[] = ['none', 'active', 'expired', 'revoked']

/**
 * Reads a session's status and remaining limits in the current period from the validator.
 *
 * @example
 * ```ts
 * const state = await getSessionState({ client, validator, account, spec })
 * state.status // 'active' | 'expired' | 'revoked' | 'none'
 * ```
 */
export async function getSessionState(parameters: {
  client: SmartAccountImplementation['client']
  validator: Address
  account: Address
  spec: SessionSpec
}): Promise<SessionState> {
  const { client, validator, account, spec } = parameters
  const state = await readContract(client, {
    address: validator,
    abi: sessionKeyValidatorAbi,
    functionName: 'sessionState',
    args: [account, encodeSessionSpec(spec)],
  })
  return {
    status: statuses[state.status] ?? 'none',
    feeRemaining: state.feeRemaining,
    callPolicies: state.callPolicies.map((p) => ({
      valueRemaining: p.valueRemaining,
      constraintRemaining: [...p.constraintRemaining],
    })),
    transferValueRemaining: [...state.transferValueRemaining],
  }
}

/**
 * The `userOp.signature` of a session userOp: `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature`
 * (packed, no padding).
 *
 * @example
 * ```ts
 * encodeSessionSignature({ spec, timestamp, signature: await signer.signUserOpHash(hash, sessionId(spec)) })
 * ```
 */
export function encodeSessionSignature(parameters: {
  spec: SessionSpec
  timestamp: number
  signature: Hex
}): Hex {
  const spec = encodeSessionSpec(parameters.spec)
  const specLength = size(spec)
  if (specLength > 0xffff)
    throw new BaseError(
      `The packed session spec is ${specLength} bytes; a session signature holds at most 65535.`,
    )
  if (
    !Number.isSafeInteger(parameters.timestamp) ||
    parameters.timestamp < 0 ||
    parameters.timestamp >= 2 ** 48
  )
    throw new BaseError(`Invalid session signature timestamp ${parameters.timestamp}: must be a uint48.`)
  return encodePacked(
    ['uint16', 'bytes', 'uint48', 'bytes'],
    [specLength, spec, parameters.timestamp, parameters.signature],
  )
}

// The documented dummies (packages/contracts/README.md): in range and of the real lengths (64 bytes r ‖ s for
// P-256, 65 bytes r ‖ s ‖ v for secp256k1) inside the real layout, so the validator runs the same path (P-256
// precompile / ecrecover) and every policy check, then fails cleanly with SIG_VALIDATION_FAILED.
const halfP256 = '7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8'
const halfSecp256k1 = '7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0'
const stubP256: Hex = `0x${halfP256}${halfP256}`
const stubSecp256k1: Hex = `0x${halfSecp256k1}${halfSecp256k1}1b`

export type SessionAccount = SmartAccount<SessionAccountImplementation>
export type SessionAccountImplementation = SmartAccountImplementation<
  typeof entryPoint08Abi,
  '0.8',
  { spec: SessionSpec; sessionId: Hex; validator: Address }
>

/**
 * The SSO account driven by a session key: a viem `SmartAccount` (EntryPoint v0.8) for `createBundlerClient`.
 * The account must be deployed (creating the session deploys it).
 *
 * @example
 * ```ts
 * const account = await toSessionAccount({ client, address, spec, signer, validator })
 * const bundler = createBundlerClient({ account, client, transport: http(bundlerUrl) })
 * await bundler.sendUserOperation({ calls: [{ to, value }] })
 * ```
 */
export async function toSessionAccount(parameters: {
  client: SmartAccountImplementation['client']
  address: Address
  spec: SessionSpec
  signer: SessionSigner
  /** SessionKeyValidator address. */
  validator: Address
  entryPoint?: Address | undefined
  /** The time the signature claims (default: the latest block's timestamp, read at signing). */
  timestamp?: (() => Promise<number>) | undefined
}): Promise<SessionAccount> {
  const { client, address, spec, signer, validator } = parameters
  const entryPoint = parameters.entryPoint ?? entryPoint08Address
  const chainId = client.chain?.id
  if (chainId === undefined) throw new BaseError('toSessionAccount needs a client with a chain.')
  if (signer.publicKey.toLowerCase() !== spec.signer.toLowerCase())
    throw new BaseError('The session signer does not match the spec’s signer.')
  const id = sessionIdOf(spec)
  const now =
    parameters.timestamp ?? (async () => Number((await getBlock(client, { blockTag: 'latest' })).timestamp))

  const account = await toValidatorAccount({
    client,
    chainId,
    address,
    entryPoint,
    validator,
    extend: { spec, sessionId: id, validator },
    async getFactoryArgs() {
      return { factory: undefined, factoryData: undefined }
    },
    async getStubSignature() {
      return encodeSessionSignature({
        spec,
        timestamp: await now(),
        signature: signer.kind === 'p256' ? stubP256 : stubSecp256k1,
      })
    },
    async signMessage() {
      throw new BaseError('A session key does not sign messages (the SessionKeyValidator refuses them).')
    },
    async signTypedData() {
      throw new BaseError('A session key does not sign typed data (the SessionKeyValidator refuses them).')
    },
    async signUserOperationHash(hash) {
      return encodeSessionSignature({
        spec,
        timestamp: await now(),
        signature: await signer.signUserOpHash(hash, id),
      })
    },
  })
  // A session exists only once an operation of the deployed account created it: never read the account's code
  // (viem asks before every estimate otherwise, a round trip on each send).
  account.isDeployed = async () => true
  return account
}
