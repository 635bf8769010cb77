// @vitest-environment node
/**
 * Sign-In with Ethereum (EIP-4361) with an SSO account that is not deployed yet, on a real anvil with our
 * contracts: the account's signature (ERC-1271 + ERC-7739, wrapped in ERC-6492 while undeployed) verifies in viem
 * (`verifyMessage`, `verifySiweMessage`) and in the `siwe` library on an ethers provider (its ERC-1271 check, plus
 * an ERC-6492 `verificationFallback` for the undeployed account: docs/interfaces.md, "Sign-In with Ethereum").
 */
import { AbiCoder, concat, JsonRpcProvider } from 'ethers'
import { SiweMessage } from 'siwe'
import {
  type Address,
  erc6492SignatureValidatorByteCode,
  type Hex,
  hashMessage,
  isErc6492Signature,
} from 'viem'
import { createSiweMessage, generateSiweNonce, verifySiweMessage } from 'viem/siwe'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { toSsoAccount } from './entry/account.js'
import { type AnvilClient, startAnvilChain } from './internal/anvilChain.js'
import { createTestPasskey } from './testing/index.js'

let stopChain: (() => void) | undefined
let client: AnvilClient
let provider: JsonRpcProvider
let contracts: { accountFactory: Address; webAuthnValidator: Address }

beforeAll(async () => {
  const chain = await startAnvilChain()
  stopChain = chain.stop
  client = chain.client
  const at = (name: string): Address => {
    const address = chain.contracts[name]
    if (!address) throw new Error(`${name} is not in the deployment plan`)
    return address
  }
  contracts = { accountFactory: at('AccountFactory'), webAuthnValidator: at('WebAuthnValidator') }
  provider = new JsonRpcProvider(client.transport.url, 31337, { staticNetwork: true })
}, 240_000)
afterAll(() => {
  provider?.destroy()
  stopChain?.()
})

/**
 * ERC-6492 for the `siwe` library: the signature validator of ERC-6492 run as a deployless `eth_call` (it deploys
 * the account in the call when the signature carries its factory, then asks its ERC-1271), answering 0x01.
 */
const erc6492Fallback = async (
  params: { signature: string },
  opts: { provider?: JsonRpcProvider },
  message: SiweMessage,
) => {
  if (!opts.provider) return { success: false, data: message, error: new Error('No provider') }
  const data = concat([
    erc6492SignatureValidatorByteCode,
    AbiCoder.defaultAbiCoder().encode(
      ['address', 'bytes32', 'bytes'],
      [message.address, hashMessage(message.prepareMessage()), params.signature],
    ),
  ])
  // A signature the account refuses may revert the call rather than answer 0x00.
  const result = await opts.provider.call({ data }).catch(() => '0x00')
  return result === '0x01'
    ? { success: true, data: message }
    : { success: false, data: message, error: new Error('ERC-6492: the signature does not validate') }
}

describe('Sign-In with Ethereum (EIP-4361)', () => {
  test('behavior: an undeployed account signs in; viem and the siwe library (ERC-6492 fallback) verify it, then ERC-1271 once deployed', async () => {
    const passkey = createTestPasskey()
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts,
    })
    expect(await client.getCode({ address: account.address })).toBeUndefined()

    const fields = {
      domain: 'localhost:3001',
      address: account.address,
      statement: 'Sign in to the SSO demo.',
      uri: 'http://localhost:3001',
      version: '1' as const,
      chainId: 31337,
      nonce: generateSiweNonce(),
      issuedAt: new Date(),
    }
    const message = createSiweMessage(fields)
    const signature = await account.signMessage({ message })
    expect(isErc6492Signature(signature)).toBe(true)

    // viem
    expect(await client.verifyMessage({ address: account.address, message, signature })).toBe(true)
    expect(
      await verifySiweMessage(client, { message, signature, domain: fields.domain, nonce: fields.nonce }),
    ).toBe(true)
    expect(await verifySiweMessage(client, { message, signature, nonce: 'another-nonce' })).toBe(false)
    const stranger = createTestPasskey()
    const forged = await toSsoAccount({
      client,
      credential: stranger.credential,
      sign: stranger.sign,
      contracts,
      address: account.address,
    })
    const forgedSignature = await forged.signMessage({ message })
    expect(await verifySiweMessage(client, { message, signature: forgedSignature })).toBe(false)

    // the siwe library: its own ERC-1271 check can't see an undeployed account; the ERC-6492 fallback can
    const siwe = new SiweMessage(message)
    expect(siwe.address).toBe(account.address)
    const plain = await siwe.verify(
      { signature, nonce: fields.nonce },
      { provider, suppressExceptions: true },
    )
    expect(plain.success).toBe(false)
    const verified = await siwe.verify(
      { signature, nonce: fields.nonce, domain: fields.domain },
      { provider, verificationFallback: erc6492Fallback as never },
    )
    expect(verified.success).toBe(true)
    expect(verified.data.address).toBe(account.address)
    const refused = await siwe.verify(
      { signature: forgedSignature, nonce: fields.nonce },
      { provider, verificationFallback: erc6492Fallback as never, suppressExceptions: true },
    )
    expect(refused.success).toBe(false)
    // The verification deployed nothing (ERC-6492 runs the factory inside an eth_call).
    expect(await client.getCode({ address: account.address })).toBeUndefined()

    // Once deployed (the first userOp), a new sign-in is a plain ERC-1271 signature: siwe needs no fallback.
    const { factory, factoryData } = await account.getFactoryArgs()
    const hash = await client.sendTransaction({
      to: factory as Address,
      data: factoryData as Hex,
      chain: client.chain,
    })
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success')
    const deployed = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts,
    })
    const again = createSiweMessage({ ...fields, nonce: generateSiweNonce() })
    const signatureAgain = await deployed.signMessage({ message: again })
    expect(isErc6492Signature(signatureAgain)).toBe(false)
    expect(await verifySiweMessage(client, { message: again, signature: signatureAgain })).toBe(true)
    const siweAgain = await new SiweMessage(again).verify({ signature: signatureAgain }, { provider })
    expect(siweAgain.success).toBe(true)
    // The signature made before deployment still verifies through ERC-6492 in viem.
    expect(await verifySiweMessage(client, { message, signature })).toBe(true)
  })
})
