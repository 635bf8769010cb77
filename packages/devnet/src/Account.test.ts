/**
 * SsoAccount end to end on a private devnet, through Alto: a software P-256 passkey (WebAuthn-format
 * assertions, @sso/client/testing) deploys the account with its first userOp, sends a batch, adds a second
 * passkey, signs with it, removes the first one (which is then refused) and cannot remove the last one.
 * The steps share one account and run in order.
 */

import {
  encodeWebAuthnSignature,
  estimateUserOperationFees,
  registrationChallenge,
  type SsoAccount,
  toSsoAccount,
} from '@sso/client/account'
import { createTestPasskey, type TestPasskey } from '@sso/client/testing'
import { base64UrlToBytes, bytesToHex } from '@sso/client/webauthn'
import { webAuthnValidatorAbi } from '@sso/contracts-abi'
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  type Log,
  type PublicClient,
  parseEther,
  parseEventLogs,
  toFunctionSelector,
} from 'viem'
import {
  type BundlerClient,
  createBundlerClient,
  entryPoint08Abi,
  UserOperationExecutionError,
  UserOperationSignatureError,
} from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { anvilKeys, type Stack, startStack } from './Stack.js'

type Call = { to: Address; value?: bigint; data?: Hex }

const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address
const credentialIdHex = (passkey: TestPasskey): Hex => bytesToHex(base64UrlToBytes(passkey.credential.id))

describe('SsoAccount through Alto: deploy, batch, add / use / remove passkeys', () => {
  let stack: Stack
  let chain: Chain
  let client: PublicClient
  let bundler: BundlerClient
  let contracts: { accountFactory: Address; webAuthnValidator: Address; entryPoint: Address }
  const passkey1 = createTestPasskey()
  const passkey2 = createTestPasskey()
  let account1: SsoAccount
  let account2: SsoAccount

  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
    const { accountFactory, webAuthnValidator, entryPoint } = stack.contracts
    if (!accountFactory || !webAuthnValidator)
      throw new Error('AccountFactory / WebAuthnValidator not deployed')
    contracts = { accountFactory, webAuthnValidator, entryPoint }
    chain = defineChain({
      id: stack.chainId,
      name: 'SSO Devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    })
    client = createPublicClient({ chain, transport: http(stack.rpcUrl), pollingInterval: 50 }) as PublicClient
    bundler = createBundlerClient({
      client,
      chain,
      transport: http(stack.bundlerUrl),
      pollingInterval: 50,
      userOperation: { estimateFeesPerGas: estimateUserOperationFees },
    })
    account1 = await toSsoAccount({
      client,
      credential: passkey1.credential,
      sign: passkey1.sign,
      contracts,
    })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  /** Sends one userOp and waits for it; returns the userOp receipt. */
  const send = async (account: SsoAccount, calls: Call[]) => {
    const hash = await bundler.sendUserOperation({ account, calls })
    return bundler.waitForUserOperationReceipt({ hash, pollingInterval: 50, timeout: 30_000 })
  }
  const nonceOf = (account: SsoAccount) => account.getNonce()
  const read = <name extends 'hasPasskey' | 'passkeyCount' | 'accountsOf' | 'registrationNonce'>(
    functionName: name,
    args: readonly unknown[],
  ) =>
    client.readContract({
      address: contracts.webAuthnValidator,
      abi: webAuthnValidatorAbi,
      functionName,
      args,
    } as never) as Promise<
      name extends 'hasPasskey' ? boolean : name extends 'passkeyCount' ? bigint : Address[]
    >
  const hasPasskey = (passkey: TestPasskey) => {
    const { x, y } = passkey.credential.publicKey
    const { rpId, origin } = passkey.credential
    return read('hasPasskey', [account1.address, credentialIdHex(passkey), x, y, rpId, origin])
  }
  const accountDeployed = (logs: Log[]) =>
    parseEventLogs({ abi: entryPoint08Abi, eventName: 'AccountDeployed', logs }).map((event) => event.args)
  const validatorCall = (data: Hex): Call => ({ to: contracts.webAuthnValidator, data })

  test('behavior: the first userOp deploys the counterfactual account and transfers ETH', async () => {
    const address = account1.address
    expect(await client.getCode({ address })).toBeUndefined()
    const funder = createWalletClient({
      chain,
      transport: http(stack.rpcUrl),
      account: privateKeyToAccount(anvilKeys[0]),
    })
    const funding = await funder.sendTransaction({ to: address, value: parseEther('10') })
    expect((await client.waitForTransactionReceipt({ hash: funding })).status).toBe('success')
    expect(await client.getBalance({ address })).toBe(parseEther('10'))

    const recipient = randomAddress()
    const value = parseEther('0.25')
    const nonce = await nonceOf(account1)
    const receipt = await send(account1, [{ to: recipient, value }])
    expect(receipt.success).toBe(true)
    expect(receipt.sender).toBe(address)
    expect(accountDeployed(receipt.receipt.logs)).toEqual([
      expect.objectContaining({ sender: address, factory: contracts.accountFactory }),
    ])
    const code = await client.getCode({ address })
    expect(code && code !== '0x').toBe(true)
    expect(await client.getBalance({ address: recipient })).toBe(value)
    // The account paid the value and its gas.
    expect(await client.getBalance({ address })).toBeLessThan(parseEther('10') - value)
    expect(await nonceOf(account1)).toBe(nonce + 1n)
    expect(await read('passkeyCount', [address])).toBe(1n)
    expect(await hasPasskey(passkey1)).toBe(true)
  })

  test('behavior: a batch of 3 calls runs in one userOp', async () => {
    const recipients = [randomAddress(), randomAddress(), randomAddress()]
    const values = [1n, 2n, 3n].map((n) => n * 10n ** 15n)
    const nonce = await nonceOf(account1)
    const receipt = await send(
      account1,
      recipients.map((to, index) => ({ to, value: values[index]! })),
    )
    expect(receipt.success).toBe(true)
    for (const [index, address] of recipients.entries()) {
      expect(await client.getBalance({ address })).toBe(values[index])
    }
    // One UserOperationEvent in the bundle for this account, one nonce step.
    const events = parseEventLogs({
      abi: entryPoint08Abi,
      eventName: 'UserOperationEvent',
      logs: receipt.receipt.logs,
    }).filter((event) => event.args.sender === account1.address)
    expect(events).toHaveLength(1)
    expect(events[0]!.args.nonce).toBe(nonce)
    expect(await nonceOf(account1)).toBe(nonce + 1n)
  })

  test('behavior: a userOp signed by passkey 1 adds passkey 2', async () => {
    const { x, y } = passkey2.credential.publicKey
    const { rpId, origin } = passkey2.credential
    expect(await hasPasskey(passkey2)).toBe(false)
    // Proof of possession: passkey 2 signs the account's registration challenge.
    const proof = encodeWebAuthnSignature({
      credential: passkey2.credential,
      assertion: await passkey2.sign(
        registrationChallenge({
          webAuthnValidator: contracts.webAuthnValidator,
          account: account1.address,
          credentialId: passkey2.credential.id,
        }),
      ),
    })
    const receipt = await send(account1, [
      validatorCall(
        encodeFunctionData({
          abi: webAuthnValidatorAbi,
          functionName: 'addPasskey',
          args: [credentialIdHex(passkey2), x, y, rpId, origin, proof],
        }),
      ),
    ])
    expect(receipt.success).toBe(true)
    expect(await hasPasskey(passkey2)).toBe(true)
    expect(await hasPasskey(passkey1)).toBe(true)
    expect(await read('passkeyCount', [account1.address])).toBe(2n)
    expect(await read('accountsOf', [credentialIdHex(passkey2), x, y, rpId, origin])).toEqual([
      account1.address,
    ])
  })

  test('behavior: passkey 2 signs a userOp for the existing account', async () => {
    account2 = await toSsoAccount({
      client,
      credential: passkey2.credential,
      sign: passkey2.sign,
      contracts,
      address: account1.address,
    })
    expect(account2.address).toBe(account1.address)
    const recipient = randomAddress()
    const nonce = await nonceOf(account2)
    const receipt = await send(account2, [{ to: recipient, value: 7n }])
    expect(receipt.success).toBe(true)
    // No second deployment: the op carried no factory.
    expect(accountDeployed(receipt.receipt.logs)).toEqual([])
    expect(await client.getBalance({ address: recipient })).toBe(7n)
    expect(await nonceOf(account2)).toBe(nonce + 1n)
  })

  test('behavior: once passkey 2 removed passkey 1, a userOp signed by passkey 1 is refused and changes nothing', async () => {
    const receipt = await send(account2, [
      validatorCall(
        encodeFunctionData({
          abi: webAuthnValidatorAbi,
          functionName: 'removePasskey',
          args: [credentialIdHex(passkey1)],
        }),
      ),
    ])
    expect(receipt.success).toBe(true)
    expect(await hasPasskey(passkey1)).toBe(false)
    expect(await hasPasskey(passkey2)).toBe(true)
    expect(await read('passkeyCount', [account1.address])).toBe(1n)
    // Its old proofs for this account no longer hold: the registration nonce moved on.
    expect(await read('registrationNonce', [account1.address, credentialIdHex(passkey1)])).toBe(1n)

    const recipient = randomAddress()
    const nonce = await nonceOf(account1)
    const balance = await client.getBalance({ address: account1.address })
    const error = await send(account1, [{ to: recipient, value: 1n }]).then(
      () => undefined,
      (error: unknown) => error,
    )
    // Estimation tolerates a bad signature; eth_sendUserOperation refuses it (ERC-7769 code -32507).
    expect(error).toBeInstanceOf(UserOperationExecutionError)
    const execution = error as UserOperationExecutionError
    expect(execution.walk((cause) => cause instanceof UserOperationSignatureError)).toBeInstanceOf(
      UserOperationSignatureError,
    )
    expect(execution.details).toMatch(/AA24 signature error/)
    // Give a wrongly accepted op time to land before checking that nothing moved.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await nonceOf(account1)).toBe(nonce)
    expect(await client.getBalance({ address: account1.address })).toBe(balance)
    expect(await client.getBalance({ address: recipient })).toBe(0n)
  })

  test('error: the last passkey cannot be removed', async () => {
    const nonce = await nonceOf(account2)
    const outcome = await send(account2, [
      validatorCall(
        encodeFunctionData({
          abi: webAuthnValidatorAbi,
          functionName: 'removePasskey',
          args: [credentialIdHex(passkey2)],
        }),
      ),
    ]).then(
      (receipt) => ({ receipt }),
      (error: unknown) => ({ error: error as Error }),
    )
    if ('receipt' in outcome) {
      // Included but reverted: the nonce moved, the passkey did not.
      expect(outcome.receipt.success).toBe(false)
      expect(await nonceOf(account2)).toBe(nonce + 1n)
    } else {
      // Refused at estimation: the inner call reverts with LastPasskey(account, credentialId).
      const selector = toFunctionSelector('LastPasskey(address,bytes)')
      const data = outcome.error.message.match(new RegExp(`${selector}[0-9a-f]*`))?.[0]
      expect(data, outcome.error.message).toMatch(new RegExp(`^${selector}`))
      const decoded = decodeErrorResult({ abi: webAuthnValidatorAbi, data: data as Hex })
      expect(decoded.errorName).toBe('LastPasskey')
      expect(decoded.args).toEqual([account1.address, credentialIdHex(passkey2)])
      expect(await nonceOf(account2)).toBe(nonce)
    }
    expect(await hasPasskey(passkey2)).toBe(true)
    expect(await read('passkeyCount', [account1.address])).toBe(1n)
  })
})
