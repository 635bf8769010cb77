/**
 * `@sso/client/account`: the SSO account as a viem `SmartAccount` (EntryPoint v0.8), shared by the auth server,
 * the tests and the benchmarks. Encodings follow packages/contracts/README.md and docs/interfaces.md.
 */
import {
  type Address,
  type Client,
  concatHex,
  decodeAbiParameters,
  decodeFunctionData,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  numberToHex,
  padHex,
  parseAbi,
  sha256,
  size,
  sliceHex,
  stringToHex,
  type TypedData,
  type TypedDataDefinition,
  zeroHash,
} from 'viem'
import {
  entryPoint08Abi,
  entryPoint08Address,
  getUserOperationHash,
  type SmartAccount,
  type SmartAccountImplementation,
  toSmartAccount,
} from 'viem/account-abstraction'
import { estimateFeesPerGas, getCode, getContractEvents, readContract } from 'viem/actions'
import {
  hashMessage as hashMessage7739,
  hashTypedData as hashTypedData7739,
  wrapTypedDataSignature,
} from 'viem/experimental/erc7739'
import {
  clientDataChallenge,
  decodeClientDataMembers,
  encodeClientDataMembers,
  parseClientData,
  serializeClientData,
} from './ClientData.js'
import { BaseError } from './Errors.js'
import {
  base64UrlToBytes,
  bytesToBase64Url,
  bytesToHex,
  hexToBytes,
  InvalidWebAuthnDataError,
  type P256PublicKey,
  parseP256Signature,
  type WebAuthnAssertion,
} from './WebAuthn.js'

/** The passkey an account is created with (or signs with). */
export type SsoCredential = {
  /** Credential id, base64url (`PublicKeyCredential.id`). */
  id: string
  /** P-256 public key. */
  publicKey: P256PublicKey
  /** Origin the passkey signs from (clientDataJSON `origin`), e.g. `http://localhost:3002`. */
  origin: string
  /** WebAuthn relying party id. Default: the hostname of `origin`. */
  rpId?: string | undefined
}

/** Addresses of the contracts the account uses (from `/sso-config.json` or the `@sso/contracts-abi` manifest). */
export type SsoContracts = {
  accountFactory: Address
  webAuthnValidator: Address
  entryPoint?: Address | undefined
}

/** Signs a 32-byte challenge with the passkey (`navigator.credentials.get`). */
export type SsoSign = (challenge: Hex) => Promise<WebAuthnAssertion>

export type ToSsoAccountParameters = {
  /** A viem client with a `chain` (reads: factory address, nonce, deployment), e.g. a public client. */
  client: SmartAccountImplementation['client']
  credential: SsoCredential
  sign: SsoSign
  contracts: SsoContracts
  /** The account address when already known (e.g. found from the credential on a new device). */
  address?: Address | undefined
}

export type SsoAccount = SmartAccount<SsoAccountImplementation>
export type SsoAccountImplementation = SmartAccountImplementation<
  typeof entryPoint08Abi,
  '0.8',
  { credential: SsoCredential; contracts: Required<SsoContracts> }
>

/** EIP-712 domain name / version of SsoAccount (ERC-7739 verifier domain). */
export const accountDomain = { name: 'SsoAccount', version: '1' } as const

// ---------------------------------------------------------------------------------------------------------------
// ABIs (the parts the client needs).

export const accountFactoryAbi = parseAbi([
  'function createAccount(bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin) returns (address)',
  'function getAddress(bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin) view returns (address)',
  'function implementation() view returns (address)',
])

export const webAuthnValidatorAbi = parseAbi([
  'event PasskeyAdded(address indexed account, bytes32 indexed credentialIdHash, bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin, bool proven)',
  'function accountsOf(bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin) view returns (address[])',
  'function registrationNonce(address account, bytes credentialId) view returns (uint256)',
  'function hasPasskey(address account, bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin) view returns (bool)',
  'function passkeyState(address account, bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin) view returns (uint8)',
  'function addPasskey(bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin, bytes proof)',
  'function removePasskey(bytes credentialId)',
])

export const accountAbi = parseAbi([
  'function execute(bytes32 mode, bytes executionCalldata) payable',
  'function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)',
])

// ---------------------------------------------------------------------------------------------------------------
// ERC-7579 execution encoding

/** ERC-7579 mode: call type single (0x00), exec type default, no selector / payload. */
export const modeSingle: Hex = padHex('0x00', { dir: 'right', size: 32 })
/** ERC-7579 mode: call type batch (0x01), exec type default. */
export const modeBatch: Hex = padHex('0x01', { dir: 'right', size: 32 })

export type Call = { to: Address; data?: Hex | undefined; value?: bigint | undefined }

const executionsParameters = [
  {
    type: 'tuple[]',
    components: [
      { name: 'target', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'callData', type: 'bytes' },
    ],
  },
] as const

/**
 * Encodes calls as `execute(mode, executionCalldata)`: one call -> single mode (`target ‖ value ‖ callData`
 * packed), several -> batch mode (`abi.encode(Execution[])`).
 *
 * @example
 * ```ts
 * const callData = encodeCalls([{ to: token, data: transferData }])
 * ```
 */
export function encodeCalls(calls: readonly Call[]): Hex {
  if (calls.length === 0) throw new BaseError('encodeCalls needs at least one call.')
  if (calls.length === 1) {
    const [call] = calls as [Call]
    const executionCalldata = concatHex([
      call.to,
      numberToHex(call.value ?? 0n, { size: 32 }),
      call.data ?? '0x',
    ])
    return encodeFunctionData({
      abi: accountAbi,
      functionName: 'execute',
      args: [modeSingle, executionCalldata],
    })
  }
  const executions = calls.map((c) => ({ target: c.to, value: c.value ?? 0n, callData: c.data ?? '0x' }))
  const executionCalldata = encodeAbiParameters(executionsParameters, [executions])
  return encodeFunctionData({
    abi: accountAbi,
    functionName: 'execute',
    args: [modeBatch, executionCalldata],
  })
}

/**
 * Decodes `execute(mode, executionCalldata)` back into calls (inverse of {@link encodeCalls}).
 *
 * @example
 * ```ts
 * decodeCalls(encodeCalls(calls)) // calls
 * ```
 */
export function decodeCalls(data: Hex): Call[] {
  const { args } = decodeFunctionData({ abi: accountAbi, data })
  if (args?.length !== 2) throw new BaseError('Not an execute() call.')
  const [mode, executionCalldata] = args as readonly [Hex, Hex]
  const callType = sliceHex(mode, 0, 1)
  if (callType === '0x00') {
    const to = getAddress(sliceHex(executionCalldata, 0, 20))
    const value = BigInt(sliceHex(executionCalldata, 20, 52))
    const rest = size(executionCalldata) > 52 ? sliceHex(executionCalldata, 52) : '0x'
    return [{ to, value, data: rest }]
  }
  if (callType === '0x01') {
    const [executions] = decodeAbiParameters(executionsParameters, executionCalldata)
    return executions.map((e) => ({ to: e.target, value: e.value, data: e.callData }))
  }
  throw new BaseError(`Unsupported ERC-7579 call type ${callType}.`)
}

// ---------------------------------------------------------------------------------------------------------------
// Nonce key

/**
 * The userOp nonce key that selects `validator` (ERC-7579 convention): `uint192(validator) << 32 | sequence`.
 *
 * @example
 * ```ts
 * const key = nonceKey(contracts.webAuthnValidator) // pass to entryPoint.getNonce(account, key)
 * ```
 */
export function nonceKey(validator: Address, sequence = 0n): bigint {
  return (BigInt(validator) << 32n) | (sequence & 0xffffffffn)
}

// ---------------------------------------------------------------------------------------------------------------
// WebAuthn signature encoding (packages/contracts/src/WebAuthnValidator.sol, packages/contracts/README.md)

/** The credential fields the signature carries. */
export type SignatureCredential = Pick<SsoCredential, 'id' | 'publicKey'>

/**
 * Encodes a passkey assertion as the WebAuthnValidator signature (the userOp signature, or the part after the
 * validator address in an ERC-1271 signature), packed: `bytes32 credentialIdHash ‖ bytes32 x ‖ bytes32 y ‖
 * bytes32 r ‖ bytes32 s ‖ uint16 authenticatorData length ‖ authenticatorData ‖ clientData` with
 * `credentialIdHash = keccak256(rawCredentialId)`, low-s `s`, and `clientData` the member list the contract
 * rebuilds clientDataJSON from (docs/webauthn.md). Throws {@link InvalidWebAuthnDataError} when
 * clientDataJSON can't be expressed (a cross-origin assertion, another type, unexpected members) or, with
 * `challenge`, when it signs another challenge.
 *
 * @example
 * ```ts
 * const signature = encodeWebAuthnSignature({ credential, assertion: await sign(userOpHash) })
 * ```
 */
export function encodeWebAuthnSignature(parameters: {
  credential: SignatureCredential
  assertion: WebAuthnAssertion
  /** When given, the challenge in clientDataJSON must be base64url(challenge). */
  challenge?: Hex | undefined
}): Hex {
  const { credential, assertion } = parameters
  const { r, s } = parseP256Signature(assertion.signature)
  const members = parseClientData(assertion.clientDataJSON)
  if (serializeClientData(members) !== assertion.clientDataJSON)
    throw new InvalidWebAuthnDataError('clientDataJSON does not rebuild from its members.')
  if (
    parameters.challenge !== undefined &&
    clientDataChallenge(members) !== bytesToBase64Url(hexToBytes(parameters.challenge))
  )
    throw new InvalidWebAuthnDataError('The passkey signed another challenge than the one requested.')
  return encodeWebAuthnFields(credential, r, s, assertion.authenticatorData, encodeClientDataMembers(members))
}

function encodeWebAuthnFields(
  credential: SignatureCredential,
  r: bigint,
  s: bigint,
  authenticatorData: Hex,
  clientData: Hex,
): Hex {
  return concatHex([
    credentialIdHash(credential.id),
    credential.publicKey.x,
    credential.publicKey.y,
    numberToHex(r, { size: 32 }),
    numberToHex(s, { size: 32 }),
    numberToHex(size(authenticatorData), { size: 2 }),
    authenticatorData,
    clientData,
  ])
}

/** `keccak256` of the raw credential id (the validator's storage key). `id` is base64url. */
export function credentialIdHash(id: string): Hex {
  return keccak256(base64UrlToBytes(id))
}

/**
 * Decodes a WebAuthnValidator signature (inverse of {@link encodeWebAuthnSignature}). With `challenge`, also
 * rebuilds the full clientDataJSON the passkey signed.
 *
 * @example
 * ```ts
 * const { r, s, clientDataJSON } = decodeWebAuthnSignature(signature, userOpHash)
 * ```
 */
export function decodeWebAuthnSignature(signature: Hex, challenge?: Hex) {
  if (size(signature) < 0xa2 + 37)
    throw new InvalidWebAuthnDataError(`A WebAuthn signature is at least ${0xa2 + 37} bytes.`)
  const word = (index: number) => sliceHex(signature, index * 32, index * 32 + 32)
  const [credentialIdHash, x, y, r, s] = [word(0), word(1), word(2), word(3), word(4)]
  const authenticatorLength = Number(BigInt(sliceHex(signature, 0xa0, 0xa2)))
  if (0xa2 + authenticatorLength > size(signature))
    throw new InvalidWebAuthnDataError('The authenticatorData length runs past the signature.')
  const authenticatorData = sliceHex(signature, 0xa2, 0xa2 + authenticatorLength)
  const clientData =
    0xa2 + authenticatorLength === size(signature) ? '0x' : sliceHex(signature, 0xa2 + authenticatorLength)
  const members = decodeClientDataMembers(
    clientData,
    challenge === undefined ? '' : bytesToBase64Url(hexToBytes(challenge)),
  )
  const clientDataJSON = challenge === undefined ? undefined : serializeClientData(members)
  return { credentialIdHash, x, y, r, s, authenticatorData, clientData, members, clientDataJSON }
}

/** Type hash of the proof of possession a passkey signs to join an account (WebAuthnValidator). */
export const registrationTypeHash = keccak256(
  stringToHex(
    'SsoPasskeyRegistration(address validator,address account,bytes32 credentialIdHash,uint256 nonce)',
  ),
)

/**
 * The challenge a passkey signs to join `account` (`WebAuthnValidator.registrationChallenge`): it names the
 * credential id and the passkey's registration nonce on that account (`registrationNonce`, 0 until the passkey
 * is removed from it), and no chain id, so the same proof holds on every chain.
 *
 * @example
 * ```ts
 * const challenge = registrationChallenge({ webAuthnValidator, account, credentialId: credential.id })
 * const proof = encodeWebAuthnSignature({ credential, assertion: await sign(challenge) })
 * ```
 */
export function registrationChallenge(parameters: {
  webAuthnValidator: Address
  account: Address
  /** base64url credential id of the joining passkey. */
  credentialId: string
  /** `WebAuthnValidator.registrationNonce(account, credentialId)`; default 0 (never removed from the account). */
  nonce?: bigint | undefined
}): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'address' },
        { type: 'address' },
        { type: 'bytes32' },
        { type: 'uint256' },
      ],
      [
        registrationTypeHash,
        parameters.webAuthnValidator,
        parameters.account,
        keccak256(bytesToHex(base64UrlToBytes(parameters.credentialId))),
        parameters.nonce ?? 0n,
      ],
    ),
  )
}

/**
 * A dummy signature for gas estimation that runs the same validation path as a real one: the real credential
 * id hash and key, authenticatorData with the real rpIdHash and UP+UV flags, a member list with the right
 * origin and Chrome's occasional extra member (so the stub is never shorter than a real signature and
 * preVerificationGas is not under-estimated), in-range low-s r/s. The validator runs every check and the P-256
 * precompile, then fails cleanly (SIG_VALIDATION_FAILED).
 *
 * @example
 * ```ts
 * const stub = dummySignature(credential)
 * ```
 */
export function dummySignature(
  credential: SignatureCredential & Pick<SsoCredential, 'origin' | 'rpId'>,
): Hex {
  const rpId = credential.rpId ?? new URL(credential.origin).hostname
  const authenticatorData = concatHex([sha256(stringToHex(rpId)), '0x05', '0x00000001'])
  const members = encodeClientDataMembers([
    { kind: 'type' },
    { kind: 'challenge', challenge: '' },
    { kind: 'origin', origin: credential.origin, escaped: false },
    { kind: 'crossOrigin' },
    {
      kind: 'string',
      key: 'other_keys_can_be_added_here',
      value: 'do not compare clientDataJSON against a template. See https://goo.gl/yabPex',
    },
  ])
  return encodeWebAuthnFields(
    credential,
    BigInt(`0x${'7f'.repeat(32)}`),
    BigInt(`0x${'3f'.repeat(32)}`),
    authenticatorData,
    members,
  )
}

// ---------------------------------------------------------------------------------------------------------------
// The account

/**
 * The SSO account as a viem `SmartAccount` for EntryPoint v0.8: use it with `createBundlerClient` /
 * `sendUserOperation`, `signMessage`, `signTypedData`.
 *
 * @example
 * ```ts
 * import { toSsoAccount } from '@sso/client/account'
 * const account = await toSsoAccount({ client, credential, sign, contracts })
 * const bundler = createBundlerClient({ account, client, transport: http(bundlerUrl) })
 * await bundler.sendUserOperation({ calls: [{ to, value }] })
 * ```
 */
export async function toSsoAccount(parameters: ToSsoAccountParameters): Promise<SsoAccount> {
  const { client, credential, sign } = parameters
  const contracts = {
    ...parameters.contracts,
    entryPoint: parameters.contracts.entryPoint ?? entryPoint08Address,
  }
  const chainId = client.chain?.id
  if (chainId === undefined) throw new BaseError('toSsoAccount needs a client with a chain.')

  const factoryArgs = [
    bytesToHex(base64UrlToBytes(credential.id)),
    credential.publicKey.x,
    credential.publicKey.y,
    credential.rpId ?? new URL(credential.origin).hostname,
    credential.origin,
  ] as const

  const address =
    parameters.address ??
    (await readContract(client, {
      address: contracts.accountFactory,
      abi: accountFactoryAbi,
      functionName: 'getAddress',
      args: factoryArgs,
    }))

  // OZ EIP712: salt is zero (ERC-5267 `eip712Domain()`), and ERC-7739 `TypedDataSign` includes it.
  const verifierDomain = { ...accountDomain, chainId, verifyingContract: address, salt: zeroHash }
  const prefix = (inner: Hex) => concatHex([contracts.webAuthnValidator, inner])
  const signChallenge = async (challenge: Hex) =>
    encodeWebAuthnSignature({ credential, assertion: await sign(challenge), challenge })

  return toSmartAccount({
    client,
    entryPoint: { abi: entryPoint08Abi, address: contracts.entryPoint, version: '0.8' },
    extend: { credential, contracts },
    nonceKeyManager: zeroNonceKeys,
    async getAddress() {
      return address
    },
    async encodeCalls(calls) {
      return encodeCalls(calls)
    },
    async decodeCalls(data) {
      return decodeCalls(data)
    },
    async getFactoryArgs() {
      return {
        factory: contracts.accountFactory,
        factoryData: encodeFunctionData({
          abi: accountFactoryAbi,
          functionName: 'createAccount',
          args: factoryArgs,
        }),
      }
    },
    async getNonce(args) {
      return readContract(client, {
        address: contracts.entryPoint,
        abi: entryPoint08Abi,
        functionName: 'getNonce',
        args: [address, nonceKey(contracts.webAuthnValidator, args?.key ?? 0n)],
      })
    },
    async getStubSignature() {
      return dummySignature(credential)
    },
    async signMessage({ message }) {
      const hash = hashMessage7739({ message, verifierDomain })
      return prefix(await signChallenge(hash))
    },
    async signTypedData(typedData) {
      const definition = typedData as TypedDataDefinition<TypedData, string>
      const hash = hashTypedData7739({ ...definition, verifierDomain } as Parameters<
        typeof hashTypedData7739
      >[0])
      const inner = prefix(await signChallenge(hash))
      return wrapTypedDataSignature({ ...definition, signature: inner } as Parameters<
        typeof wrapTypedDataSignature
      >[0])
    },
    async signUserOperation(userOperation) {
      const { chainId: opChainId = chainId, ...op } = userOperation
      const hash = getUserOperationHash({
        chainId: opChainId,
        entryPointAddress: contracts.entryPoint,
        entryPointVersion: '0.8',
        userOperation: { ...op, sender: address } as Parameters<
          typeof getUserOperationHash
        >[0]['userOperation'],
      })
      return signChallenge(hash)
    },
  }) as Promise<SsoAccount>
}

// The validator is the nonce key; the 32-bit sequence stays 0 so nonces are sequential.
const zeroNonceKeys = {
  consume: async () => 0,
  get: async () => 0,
  increment: () => {},
  reset: () => {},
}

// ---------------------------------------------------------------------------------------------------------------
// Login on a new device: from a credential id to the account and its key

/**
 * The accounts a passkey (credential id and key, for its rpId and origin) joined with a proof of possession and
 * still holds (`WebAuthnValidator.accountsOf`, at most 16, oldest first). The list is keyed by the key too, so
 * only the key's holder can add to it. An account's first passkey is not listed: that account is the factory's
 * address for the passkey (docs/webauthn.md). Still check each candidate's code before trusting it.
 *
 * @example
 * ```ts
 * const [address] = await findPasskeyAccounts({ client, webAuthnValidator, passkey })
 * ```
 */
export async function findPasskeyAccounts(parameters: {
  client: SmartAccountImplementation['client']
  webAuthnValidator: Address
  /** The passkey: base64url id, public key, rpId and origin. */
  passkey: Pick<SsoCredential, 'id' | 'publicKey' | 'rpId' | 'origin'>
}): Promise<readonly Address[]> {
  const { id, publicKey, origin } = parameters.passkey
  const rpId = parameters.passkey.rpId ?? new URL(origin).hostname
  return readContract(parameters.client, {
    address: parameters.webAuthnValidator,
    abi: webAuthnValidatorAbi,
    functionName: 'accountsOf',
    args: [bytesToHex(base64UrlToBytes(id)), publicKey.x, publicKey.y, rpId, origin],
  })
}

/**
 * The registered passkey of `account` under `credentialId` (public key, rpId, origin) from the validator's
 * `PasskeyAdded` events, checked against the current on-chain commitment; undefined when not registered.
 * Reads logs from `fromBlock` (default: genesis — fine for devnets; pass the deployment block on long chains).
 *
 * @example
 * ```ts
 * const credential = await getPasskey({ client, webAuthnValidator, account, credentialId })
 * const sso = await toSsoAccount({ client, credential, sign, contracts, address: account })
 * ```
 */
export async function getPasskey(parameters: {
  client: SmartAccountImplementation['client']
  webAuthnValidator: Address
  account: Address
  credentialId: string
  fromBlock?: bigint | undefined
}): Promise<(SsoCredential & { rpId: string }) | undefined> {
  const { client, webAuthnValidator, account, credentialId } = parameters
  const logs = await getContractEvents(client, {
    address: webAuthnValidator,
    abi: webAuthnValidatorAbi,
    eventName: 'PasskeyAdded',
    args: { account, credentialIdHash: credentialIdHash(credentialId) },
    fromBlock: parameters.fromBlock ?? 0n,
    toBlock: 'latest',
  })
  const last = logs.at(-1)?.args
  if (!last?.x || !last.y || last.rpId === undefined || last.origin === undefined) return undefined
  const registered = await readContract(client, {
    address: webAuthnValidator,
    abi: webAuthnValidatorAbi,
    functionName: 'hasPasskey',
    args: [account, bytesToHex(base64UrlToBytes(credentialId)), last.x, last.y, last.rpId, last.origin],
  })
  if (!registered) return undefined
  return { id: credentialId, publicKey: { x: last.x, y: last.y }, rpId: last.rpId, origin: last.origin }
}

/** Whether the account has code (is deployed). */
export async function isDeployed(client: Client, address: Address): Promise<boolean> {
  const code = await getCode(client, { address })
  return code !== undefined && code !== '0x'
}

/**
 * Fees per gas for a userOp, priced the way the bundler accepts them: the bundler's
 * `pimlico_getUserOperationGasPrice` (Alto) when it answers, else the chain's EIP-1559 estimate. Use it as
 * `createBundlerClient({ userOperation: { estimateFeesPerGas: estimateUserOperationFees } })`. The chain's estimate
 * alone runs away on a devnet: anvil suggests the lowest tip of the latest block, and every bundle pays a higher
 * tip than the userOp it carries, so each userOp would be priced above the last.
 *
 * @example
 * const bundler = createBundlerClient({
 *   client,
 *   transport: http(bundlerUrl),
 *   userOperation: { estimateFeesPerGas: estimateUserOperationFees },
 * })
 */
export async function estimateUserOperationFees(parameters: {
  bundlerClient: Client
}): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
  const { bundlerClient } = parameters
  try {
    const prices = (await bundlerClient.request({
      method: 'pimlico_getUserOperationGasPrice',
    } as never)) as { fast: { maxFeePerGas: Hex; maxPriorityFeePerGas: Hex } }
    return {
      maxFeePerGas: BigInt(prices.fast.maxFeePerGas),
      maxPriorityFeePerGas: BigInt(prices.fast.maxPriorityFeePerGas),
    }
  } catch {
    // Not Alto (or no such method): the chain's own estimate, from the chain client behind the bundler client.
    const chainClient = (bundlerClient as { client?: Client }).client ?? bundlerClient
    return estimateFeesPerGas(chainClient, { chain: chainClient.chain, type: 'eip1559' })
  }
}
