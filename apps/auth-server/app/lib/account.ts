/**
 * The SSO account on a configured chain: the viem SmartAccount from `@sso/client/account` signing with the
 * passkey, its deployment at sign-up, and log-in from a credential id checked against chain state. Its user
 * operations: `userOperations.ts`.
 */
import {
  accountFactoryAbi,
  isDeployed,
  nonceKey,
  type SsoAccount,
  toSsoAccount,
  webAuthnValidatorAbi,
} from '@sso/client/account'
import { base64UrlToBytes, bytesToHex, type P256PublicKey, recoverP256PublicKeys } from '@sso/client/webauthn'
import { type Address, type Hex, isAddressEqual } from 'viem'
import { entryPoint08Abi, entryPoint08Address } from 'viem/account-abstraction'
import { getPublicClient } from './chains'
import type { SsoChainConfig } from './config'
import { AccountError } from './errors'
import { type Passkey, relyingParty, type SignedChallenge, signChallenge, verifyAssertion } from './passkey'
import { gasPayer, sendCalls, waitForUserOperation } from './userOperations'

/** The logged-in account as kept in localStorage. */
export type StoredAccount = { address: Address; passkey: Passkey }

function contractsOf(chain: SsoChainConfig) {
  const { accountFactory, webAuthnValidator, entryPoint } = chain.contracts
  if (!accountFactory || !webAuthnValidator)
    throw new AccountError(
      `Chain ${chain.id} has no accountFactory / webAuthnValidator in its configuration.`,
    )
  return { accountFactory, webAuthnValidator, entryPoint }
}

/**
 * The SmartAccount of `passkey` on `chain` (counterfactual address from the factory unless `address` is known).
 */
export async function getSsoAccount(
  chain: SsoChainConfig,
  passkey: Passkey,
  address?: Address,
): Promise<SsoAccount> {
  return toSsoAccount({
    client: getPublicClient(chain),
    credential: passkey,
    contracts: contractsOf(chain),
    address,
    sign: (challenge) => signChallenge(challenge, passkey.id),
  })
}

/**
 * Sign-up step 2: deploys the account with a first (sponsored when possible) user operation, so the account and
 * its passkey exist on chain and another device can find it. No-op when already deployed.
 */
export async function deployAccount(chain: SsoChainConfig, account: SsoAccount): Promise<void> {
  if (await isDeployed(getPublicClient(chain), account.address)) return
  const hash = await sendCalls({
    chain,
    account,
    calls: [{ to: account.address, data: '0x' }],
    payer: gasPayer(chain),
  })
  await waitForUserOperation(chain, hash)
}

/** An account a log-in assertion may belong to, checked against chain state. */
export type AccountCandidate = StoredAccount & {
  /** Whether the account has code (false: the factory's counterfactual address of this passkey). */
  deployed: boolean
  /** How the passkey holds the account: its first passkey (the address derives from it) or joined with a proof. */
  via: 'first passkey' | 'added passkey'
}

/** Passkey states of `WebAuthnValidator.passkeyState`. */
const passkeyStates = { none: 0, installed: 1, proven: 2 } as const

/** What the chain says about the accounts of one log-in assertion. */
export type AssertionAccounts = {
  /** Genuine accounts, of every key that may have signed (two keys while `certain` is false). */
  candidates: AccountCandidate[]
  /**
   * Whether the chain shows which recovered key is the passkey's: a key that signed on chain (a userOp of its
   * factory account, or a proof of possession). When false, only a second assertion (or this device's record of
   * the account) tells the two recovered keys apart: an outsider can deploy the factory account of either.
   */
  certain: boolean
}

/**
 * The genuine accounts of a log-in assertion, never trusting what outsiders can write on chain:
 * - the public key is recovered from the assertion (two candidates) and the assertion must verify for it as a
 *   `webauthn.get` over `challenge` from this origin and rpId, with UP and UV (not framed);
 * - the account whose address derives from the passkey (AccountFactory.getAddress: an account's first passkey),
 *   deployed and still holding it, or counterfactual;
 * - accounts the passkey joined with a proof of possession (`accountsOf`, keyed by the key: at most 16, only the
 *   key's holder adds to it), each a proxy of the factory's implementation and holding the passkey as proven.
 * Registrations by anyone else (a contract calling `onInstall`, an account re-installing the validator, the
 * credential id under another key) never appear. Which recovered key is the passkey's is taken only from
 * signatures on chain (see {@link AssertionAccounts.certain}), never from an account merely existing.
 */
export async function findAccountsOfAssertion(parameters: {
  chain: SsoChainConfig
  assertion: SignedChallenge
  challenge: Hex
}): Promise<AssertionAccounts> {
  const { chain, assertion, challenge } = parameters
  const { webAuthnValidator, accountFactory, entryPoint } = contractsOf(chain)
  const { origin, rpId } = relyingParty()
  const client = getPublicClient(chain)
  const credentialId = bytesToHex(base64UrlToBytes(assertion.credentialId))
  const keys = await keysOfAssertion(assertion, challenge)
  if (keys.length === 0)
    throw new AccountError('The passkey’s answer is not a valid assertion for this page.', 4100)

  const stateOf = (address: Address, key: P256PublicKey) =>
    client.readContract({
      address: webAuthnValidator,
      abi: webAuthnValidatorAbi,
      functionName: 'passkeyState',
      args: [address, credentialId, key.x, key.y, rpId, origin],
    })
  const passkeyOf = (key: P256PublicKey): Passkey => ({
    id: assertion.credentialId,
    publicKey: key,
    origin,
    rpId,
    userHandle: assertion.userHandle,
  })
  const implementation = await client.readContract({
    address: accountFactory,
    abi: accountFactoryAbi,
    functionName: 'implementation',
  })

  const found: { candidates: AccountCandidate[]; signed: boolean }[] = []
  for (const key of keys) {
    const passkey = passkeyOf(key)
    const candidates: AccountCandidate[] = []
    let signed = false
    // 1. The account this key is the first passkey of. Anyone can deploy it (for either recovered key); a userOp
    //    validated by the passkey validator (its nonce moved) shows that the key really signs.
    const address = (await getSsoAccount(chain, passkey)).address
    if (await isDeployed(client, address)) {
      const nonce = await client.readContract({
        address: entryPoint ?? entryPoint08Address,
        abi: entryPoint08Abi,
        functionName: 'getNonce',
        args: [address, nonceKey(webAuthnValidator)],
      })
      // getNonce answers `key << 64 | sequence`: the sequence counts the userOps of that key.
      signed = (nonce & 0xffffffffffffffffn) > 0n
      if ((await stateOf(address, key)) !== passkeyStates.none)
        candidates.push({ address, passkey, deployed: true, via: 'first passkey' })
    } else candidates.push({ address, passkey, deployed: false, via: 'first passkey' })

    // 2. Accounts this key joined with a proof of possession (signed by the key), if they are SSO accounts.
    const joined = await client.readContract({
      address: webAuthnValidator,
      abi: webAuthnValidatorAbi,
      functionName: 'accountsOf',
      args: [credentialId, key.x, key.y, rpId, origin],
    })
    for (const account of joined) {
      if (!(await isProxyOf(client, account, implementation))) continue
      if ((await stateOf(account, key)) !== passkeyStates.proven) continue
      candidates.push({ address: account, passkey, deployed: true, via: 'added passkey' })
      signed = true
    }
    found.push({ candidates, signed })
  }

  // The key that signed on chain is the passkey's; without one, both stay (certain only with one key).
  const signers = found.filter((f) => f.signed)
  const certain = keys.length === 1 || signers.length > 0
  const kept = (signers.length > 0 ? signers : found).flatMap((f) => {
    // A deployed account of the key makes its counterfactual twin irrelevant.
    const deployed = f.candidates.filter((c) => c.deployed)
    return deployed.length > 0 ? deployed : f.candidates
  })
  const candidates = kept.filter((c, i) => kept.findIndex((d) => isAddressEqual(d.address, c.address)) === i)
  return { candidates, certain }
}

/** ERC-1967 implementation slot. */
const implementationSlot = '0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc'

/** Whether `address` is an ERC-1967 proxy whose implementation is `implementation`. */
async function isProxyOf(
  client: ReturnType<typeof getPublicClient>,
  address: Address,
  implementation: Address,
) {
  const slot = await client.getStorageAt({ address, slot: implementationSlot })
  // The address is the slot's low 20 bytes: the account keeps its head (flags, counts) in the bits above
  // (packages/contracts/README.md, "Storage and bundler rules").
  return slot !== undefined && isAddressEqual(`0x${slot.slice(-40)}`, implementation)
}

function randomChallenge(): Hex {
  return `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** The public keys an assertion can come from (two, recovered) for which it verifies on this page. */
async function keysOfAssertion(assertion: SignedChallenge, challenge: Hex): Promise<P256PublicKey[]> {
  const { origin, rpId } = relyingParty()
  const keys: P256PublicKey[] = []
  for (const publicKey of recoverP256PublicKeys(assertion))
    if (await verifyAssertion({ assertion, publicKey, challenge, origin, rpId })) keys.push(publicKey)
  return keys
}

/** Whether two public keys are the same point. */
function sameKey(a: P256PublicKey, b: P256PublicKey): boolean {
  return a.x.toLowerCase() === b.x.toLowerCase() && a.y.toLowerCase() === b.y.toLowerCase()
}

/**
 * Log-in with a discoverable passkey: the user picks a passkey and signs a random challenge; the accounts it
 * belongs to are found from chain state ({@link findAccountsOfAssertion}). When the chain can't tell which of the
 * two recovered keys is the passkey's, this device's record of the account (user handle) does, or else a second
 * assertion: only the true key is recovered from both. Returns every genuine account: the caller lets the user
 * pick when there are several.
 */
export async function logInWithPasskey(
  chain: SsoChainConfig,
  /** Accounts signed up on this device, by user handle. */
  known: Record<string, StoredAccount> = {},
): Promise<AccountCandidate[]> {
  const challenge = randomChallenge()
  const assertion = await signChallenge(challenge)
  let { candidates, certain } = await findAccountsOfAssertion({ chain, assertion, challenge })
  if (!certain) {
    const local = assertion.userHandle ? known[assertion.userHandle] : undefined
    let key = local?.passkey.id === assertion.credentialId ? local.passkey.publicKey : undefined
    if (!key || !candidates.some((c) => sameKey(c.passkey.publicKey, key!))) {
      const second = randomChallenge()
      const keys = await keysOfAssertion(await signChallenge(second, assertion.credentialId), second)
      key = keys.find((k) => candidates.some((c) => sameKey(c.passkey.publicKey, k)))
    }
    candidates = key ? candidates.filter((c) => sameKey(c.passkey.publicKey, key!)) : []
  }
  if (candidates.length === 0)
    throw new AccountError(
      `No account on ${chain.name} holds this passkey. Sign up first, or use the passkey of an existing account.`,
      4100,
    )
  return candidates
}

/** Whether `address` is this account (case-insensitive). */
export function isAccount(stored: StoredAccount | undefined, address: string | undefined): boolean {
  if (!stored || !address) return false
  try {
    return isAddressEqual(stored.address, address as Address)
  } catch {
    return false
  }
}
