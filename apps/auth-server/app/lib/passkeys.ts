/**
 * An account's passkeys on chain (WebAuthnValidator, docs/webauthn.md): the list with when each was added, the
 * calls that add (with a proof of possession) and remove one, and making a new passkey with its proof here.
 */
import { encodeWebAuthnSignature, registrationChallenge, webAuthnValidatorAbi } from '@sso/client/account'
import { base64UrlToBytes, bytesToBase64Url, bytesToHex, hexToBytes } from '@sso/client/webauthn'
import { type Address, encodeFunctionData, type Hex } from 'viem'
import { getPublicClient } from './chains'
import { logsFrom, type SsoChainConfig } from './config'
import { DeviceLinkError, type DevicePasskey } from './deviceLink'
import { AccountError } from './errors'
import { createPasskey, signChallenge } from './passkey'
import { authenticatorName, readLabels } from './passkeyLabels'
import type { Call } from './userOperations'

/** A passkey registered on the account. */
export type AccountPasskey = {
  /** base64url credential id (what WebAuthn calls `id`). */
  id: string
  credentialId: Hex
  x: Hex
  y: Hex
  rpId: string
  origin: string
  /** Added with a proof of possession (every passkey but the account's first). */
  proven: boolean
  /** Block time of its PasskeyAdded event (seconds). */
  addedAt: number | undefined
}

function validatorOf(chain: SsoChainConfig): Address {
  const validator = chain.contracts.webAuthnValidator
  if (!validator) throw new AccountError(`Chain ${chain.id} has no webAuthnValidator in its configuration.`)
  return validator
}

/**
 * The account's passkeys, oldest first: its PasskeyAdded events whose passkey is still registered (a passkey
 * removed and added again counts once, at its last addition).
 *
 * @example
 * ```ts
 * const passkeys = await listPasskeys(chain, address)
 * ```
 */
export async function listPasskeys(chain: SsoChainConfig, address: Address): Promise<AccountPasskey[]> {
  const validator = validatorOf(chain)
  const client = getPublicClient(chain)
  const logs = await client.getContractEvents({
    address: validator,
    abi: webAuthnValidatorAbi,
    eventName: 'PasskeyAdded',
    args: { account: address },
    fromBlock: logsFrom(chain),
  })
  const latest = new Map<string, (typeof logs)[number]>()
  for (const log of logs) if (log.args.credentialId) latest.set(log.args.credentialId.toLowerCase(), log)
  const times = new Map<bigint, number>()
  const found: AccountPasskey[] = []
  for (const log of latest.values()) {
    const { credentialId, x, y, rpId, origin, proven } = log.args
    if (!credentialId || !x || !y || rpId === undefined || origin === undefined) continue
    const registered = await client.readContract({
      address: validator,
      abi: webAuthnValidatorAbi,
      functionName: 'hasPasskey',
      args: [address, credentialId, x, y, rpId, origin],
    })
    if (!registered) continue
    let addedAt: number | undefined
    if (log.blockNumber !== null) {
      if (!times.has(log.blockNumber))
        times.set(
          log.blockNumber,
          Number((await client.getBlock({ blockNumber: log.blockNumber })).timestamp),
        )
      addedAt = times.get(log.blockNumber)
    }
    found.push({
      id: bytesToBase64Url(hexToBytes(credentialId)),
      credentialId,
      x,
      y,
      rpId,
      origin,
      proven: proven ?? false,
      addedAt,
    })
  }
  return found
}

/** The call that adds the other device's passkey (with its proof) to the account. */
export function addPasskeyCall(chain: SsoChainConfig, passkey: DevicePasskey): Call {
  return {
    to: validatorOf(chain),
    data: encodeFunctionData({
      abi: webAuthnValidatorAbi,
      functionName: 'addPasskey',
      args: [
        bytesToHex(base64UrlToBytes(passkey.credentialId)),
        passkey.x,
        passkey.y,
        passkey.rpId,
        passkey.origin,
        passkey.proof,
      ],
    }),
  }
}

/** The call that removes a passkey from the account (the contract refuses the last one: `LastPasskey`). */
export function removePasskeyCall(
  chain: SsoChainConfig,
  passkey: Pick<AccountPasskey, 'credentialId'>,
): Call {
  return {
    to: validatorOf(chain),
    data: encodeFunctionData({
      abi: webAuthnValidatorAbi,
      functionName: 'removePasskey',
      args: [passkey.credentialId],
    }),
  }
}

async function registrationNonce(chain: SsoChainConfig, account: Address, credentialId: Hex) {
  return getPublicClient(chain).readContract({
    address: validatorOf(chain),
    abi: webAuthnValidatorAbi,
    functionName: 'registrationNonce',
    args: [account, credentialId],
  })
}

/**
 * Checks on chain what {@link parseDevicePasskey} can't: the passkey is not on the account yet, and the proof is
 * a valid assertion by this key, rpId and origin over the account's current registration challenge (the
 * validator's own `verifyWithKey`, the check `addPasskey` makes). Throws {@link DeviceLinkError}.
 */
export async function checkDevicePasskey(chain: SsoChainConfig, passkey: DevicePasskey): Promise<void> {
  const validator = validatorOf(chain)
  const client = getPublicClient(chain)
  const credentialId = bytesToHex(base64UrlToBytes(passkey.credentialId))
  const commitment = await client.readContract({
    address: validator,
    abi: webAuthnValidatorAbi,
    functionName: 'passkeyCommitment',
    args: [passkey.account, credentialId],
  })
  if (BigInt(commitment) !== 0n)
    throw new DeviceLinkError('credentialId', 'This passkey is already on the account.')
  const challenge = registrationChallenge({
    webAuthnValidator: validator,
    account: passkey.account,
    credentialId: passkey.credentialId,
    nonce: await registrationNonce(chain, passkey.account, credentialId),
  })
  const valid = await client.readContract({
    address: validator,
    abi: webAuthnValidatorAbi,
    functionName: 'verifyWithKey',
    args: [passkey.x, passkey.y, passkey.rpId, passkey.origin, challenge, passkey.proof],
  })
  if (!valid)
    throw new DeviceLinkError(
      'proof',
      `The proof of possession does not verify for ${passkey.origin} (made for another account, or an old link: make the passkey again).`,
    )
}

/**
 * Makes a passkey on this device for `account` and its proof of possession (two passkey prompts: create, then
 * sign the registration challenge). Nothing is sent: the result goes to a device that approves it.
 *
 * @example
 * ```ts
 * const passkey = await makeDevicePasskey(chain, account)
 * ```
 */
export async function makeDevicePasskey(chain: SsoChainConfig, account: Address): Promise<DevicePasskey> {
  const validator = validatorOf(chain)
  const passkey = await createPasskey({ userName: `SSO account ${account.slice(0, 6)}…${account.slice(-4)}` })
  const credentialId = bytesToHex(base64UrlToBytes(passkey.id))
  const challenge = registrationChallenge({
    webAuthnValidator: validator,
    account,
    credentialId: passkey.id,
    nonce: await registrationNonce(chain, account, credentialId),
  })
  const assertion = await signChallenge(challenge, passkey.id)
  const proof = encodeWebAuthnSignature({ credential: passkey, assertion, challenge })
  return {
    account,
    credentialId: passkey.id,
    x: passkey.publicKey.x,
    y: passkey.publicKey.y,
    rpId: passkey.rpId,
    origin: passkey.origin,
    proof,
    name: authenticatorName(readLabels()[passkey.id]?.aaguid),
  }
}
