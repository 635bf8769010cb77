/**
 * `@sso/client/account`: the SSO account as a viem `SmartAccount` (EntryPoint v0.8), shared by the auth server,
 * the tests and the benchmarks. Encodings follow packages/contracts/README.md and docs/interfaces.md.
 */

import { accountFactoryAbi } from '@sso/contracts-abi'
import {
  type Address,
  concatHex,
  encodeFunctionData,
  type Hex,
  type TypedData,
  type TypedDataDefinition,
  zeroHash,
} from 'viem'
import {
  type entryPoint08Abi,
  entryPoint08Address,
  type SmartAccount,
  type SmartAccountImplementation,
} from 'viem/account-abstraction'
import { readContract } from 'viem/actions'
import {
  hashMessage as hashMessage7739,
  hashTypedData as hashTypedData7739,
  wrapTypedDataSignature,
} from 'viem/experimental/erc7739'
import { BaseError } from './Errors.js'
import { toValidatorAccount } from './internal/validatorAccount.js'
import { base64UrlToBytes, bytesToHex, type P256PublicKey, type WebAuthnAssertion } from './WebAuthn.js'
import { dummySignature, encodeWebAuthnSignature } from './WebAuthnSignature.js'

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
// ABIs: the generated ones of @sso/contracts-abi, under the names this entry has always exported.

/** The SsoAccount ABI (`execute`, `isValidSignature`, the ERC-7579 module functions, ...). */
export { accountFactoryAbi, ssoAccountAbi as accountAbi, webAuthnValidatorAbi } from '@sso/contracts-abi'

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

  return toValidatorAccount({
    client,
    chainId,
    address,
    entryPoint: contracts.entryPoint,
    validator: contracts.webAuthnValidator,
    extend: { credential, contracts },
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
    signUserOperationHash: signChallenge,
  })
}
