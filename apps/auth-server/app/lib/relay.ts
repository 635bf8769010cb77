/**
 * The relay account: who sends the executor calls that "anyone" may send (finalize, a guardian's signature) when
 * the person at this page holds nothing - a new device recovering an account, an EOA guardian without gas.
 * It is an SSO account of a one-off P-256 key made here (WebCrypto, not extractable, kept in memory only): its
 * first userOp deploys it and makes the calls, and the chain's SponsorPaymaster pays. The key is nobody's passkey
 * and holds nothing; a new page makes a new one. Who pays what: docs/recovery.md, "In the auth server".
 */
import { toSsoAccount } from '@sso/client/account'
import { bytesToBase64Url, bytesToHex, hexToBytes, type WebAuthnAssertion } from '@sso/client/webauthn'
import type { Hex } from 'viem'
import { getPublicClient } from './chains'
import type { SsoChainConfig } from './config'
import { AccountError } from './errors'
import { relyingParty } from './passkey'
import { type Call, gasPayer, sendCalls, waitForUserOperation } from './userOperations'

type RelayKey = {
  credential: { id: string; publicKey: { x: Hex; y: Hex }; origin: string; rpId: string }
  sign: (challenge: Hex) => Promise<WebAuthnAssertion>
}

let relayKey: Promise<RelayKey> | undefined

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource))
}

/** A one-off key answering like a platform authenticator (UP and UV set) for this page's relying party. */
async function makeRelayKey(): Promise<RelayKey> {
  const { origin, rpId } = relyingParty()
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  const rpIdHash = await sha256(new TextEncoder().encode(rpId))
  let counter = 0
  return {
    credential: {
      id: bytesToBase64Url(crypto.getRandomValues(new Uint8Array(16))),
      publicKey: { x: bytesToHex(raw.subarray(1, 33)), y: bytesToHex(raw.subarray(33, 65)) },
      origin,
      rpId,
    },
    async sign(challenge) {
      counter++
      const authenticatorData = new Uint8Array(37)
      authenticatorData.set(rpIdHash, 0)
      authenticatorData[32] = 0x05
      new DataView(authenticatorData.buffer).setUint32(33, counter)
      const clientDataJSON = JSON.stringify({
        type: 'webauthn.get',
        challenge: bytesToBase64Url(hexToBytes(challenge)),
        origin,
        crossOrigin: false,
      })
      const clientDataHash = await sha256(new TextEncoder().encode(clientDataJSON))
      const signature = new Uint8Array(
        await crypto.subtle.sign(
          { name: 'ECDSA', hash: 'SHA-256' },
          pair.privateKey,
          new Uint8Array([...authenticatorData, ...clientDataHash]),
        ),
      )
      return {
        authenticatorData: bytesToHex(authenticatorData),
        clientDataJSON,
        signature: bytesToHex(signature),
      }
    },
  }
}

/**
 * Sends `calls` from the relay account, paid by the chain's SponsorPaymaster, and waits until they ran.
 * Fails (nothing sent) when the chain has no sponsor or a call would revert (the decoded reason).
 *
 * @example
 * ```ts
 * await relayCalls(chain, [finalizeRecovery({ executor, account, proposal })])
 * ```
 */
export async function relayCalls(chain: SsoChainConfig, calls: readonly Call[]): Promise<Hex> {
  const { accountFactory, webAuthnValidator, entryPoint } = chain.contracts
  const payer = gasPayer(chain)
  if (payer.kind === 'account')
    throw new AccountError(
      `${chain.name} has no sponsor to pay for this. A guardian can send it from their own account or wallet.`,
      -32003,
    )
  if (!accountFactory || !webAuthnValidator)
    throw new AccountError(
      `Chain ${chain.id} has no accountFactory / webAuthnValidator in its configuration.`,
    )
  relayKey ??= makeRelayKey()
  const key = await relayKey
  const account = await toSsoAccount({
    client: getPublicClient(chain),
    credential: key.credential,
    contracts: { accountFactory, webAuthnValidator, entryPoint },
    sign: key.sign,
  })
  const hash = await sendCalls({
    chain,
    account,
    calls,
    payer,
  })
  const receipt = await waitForUserOperation(chain, hash)
  return receipt.receipt.transactionHash
}
