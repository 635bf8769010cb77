/**
 * Login on a new device: from a passkey (credential id and key) to the accounts it holds and its registration.
 */
import { webAuthnValidatorAbi } from '@sso/contracts-abi'
import type { Address } from 'viem'
import type { SmartAccountImplementation } from 'viem/account-abstraction'
import { getContractEvents, readContract } from 'viem/actions'
import type { SsoCredential } from './SsoAccount.js'
import { base64UrlToBytes, bytesToHex } from './WebAuthn.js'
import { credentialIdHash } from './WebAuthnSignature.js'

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
