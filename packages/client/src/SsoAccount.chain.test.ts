// @vitest-environment node
/**
 * SsoAccount against the real contracts on a real anvil (osaka: P-256 precompile): the signatures and
 * encodings this package produces are checked by the WebAuthnValidator, the AccountFactory and viem's
 * ERC-6492 / ERC-1271 verification. No bundler here: the devnet and e2e suites cover userOps end to end.
 */
import { createRequire } from 'node:module'
import { deterministicDeployer, entryPoint08 } from '@sso/contracts-abi'
import { readArtifact } from '@sso/contracts-abi/artifacts'
import {
  type Address,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  concatHex,
  decodeEventLog,
  type Hex,
  parseEther,
  zeroAddress,
} from 'viem'
import { entryPoint08Abi, getUserOperationHash, toPackedUserOperation } from 'viem/account-abstraction'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  dummySignature,
  encodeCalls,
  findPasskeyAccounts,
  getPasskey,
  nonceKey,
  toSsoAccount,
} from './entry/account.js'
import { type AnvilClient, deployer, startAnvilChain } from './internal/anvilChain.js'
import { createTestPasskey } from './testing/index.js'

let stopChain: (() => void) | undefined
let client: AnvilClient
let contracts: { accountFactory: Address; webAuthnValidator: Address }
let validatorAbi: ReturnType<typeof readArtifact>['abi']

beforeAll(async () => {
  // Our contracts exactly as the devnet deploys them (the shared CREATE2 plan).
  const chain = await startAnvilChain()
  stopChain = chain.stop
  client = chain.client
  const at = (name: string): Address => {
    const address = chain.contracts[name]
    if (!address) throw new Error(`${name} is not in the deployment plan`)
    return address
  }
  contracts = { accountFactory: at('AccountFactory'), webAuthnValidator: at('WebAuthnValidator') }
  // EntryPoint v0.8 at its canonical address (the account trusts only that one): CREATE2 through the
  // deterministic deployer that anvil ships.
  const { bytecode } = createRequire(import.meta.url)(
    '@account-abstraction/contracts/artifacts/EntryPoint.json',
  ) as {
    bytecode: Hex
  }
  await client.waitForTransactionReceipt({
    hash: await client.sendTransaction({
      to: deterministicDeployer.address,
      data: concatHex([entryPoint08.salt, bytecode]),
      chain: client.chain,
    }),
  })
  if (!(await client.getCode({ address: entryPoint08.address })))
    throw new Error('EntryPoint v0.8 did not land at its canonical address')
  validatorAbi = readArtifact({ name: 'WebAuthnValidator', file: 'WebAuthnValidator.sol' }).abi
}, 240_000)

afterAll(() => {
  stopChain?.()
})

const typedData = {
  domain: {
    name: 'Mail',
    version: '1',
    chainId: 31337,
    verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
  },
  types: {
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'contents', type: 'string' },
    ],
  },
  primaryType: 'Mail',
  message: { from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' }, contents: 'Hello' },
} as const

describe('SsoAccount on chain', () => {
  test('behavior: signatures verify through ERC-6492 before deployment and ERC-1271 after', async () => {
    const passkey = createTestPasskey()
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts,
    })
    expect(await client.getCode({ address: account.address })).toBeUndefined()

    const message = await account.signMessage({ message: 'hello' })
    expect(
      await client.verifyMessage({ address: account.address, message: 'hello', signature: message }),
    ).toBe(true)
    expect(
      await client.verifyMessage({ address: account.address, message: 'other', signature: message }),
    ).toBe(false)
    const typed = await account.signTypedData(typedData)
    expect(await client.verifyTypedData({ address: account.address, ...typedData, signature: typed })).toBe(
      true,
    )

    // deploy through the factory data the account gives (what the first userOp does)
    const { factory, factoryData } = await account.getFactoryArgs()
    const hash = await client.sendTransaction({
      to: factory as Address,
      data: factoryData as Hex,
      chain: client.chain,
    })
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success')
    expect(await client.getCode({ address: account.address })).toMatch(/^0x[0-9a-f]{2,}$/) // deployed

    // login on a new device: the first passkey's account is the factory's address for it, not in the proven
    // index (which only lists accounts a passkey joined with a proof); its key comes from the events
    const { webAuthnValidator } = contracts
    expect(await findPasskeyAccounts({ client, webAuthnValidator, passkey: passkey.credential })).toEqual([])
    expect(
      await getPasskey({
        client,
        webAuthnValidator,
        account: account.address,
        credentialId: passkey.credential.id,
      }),
    ).toEqual({
      id: passkey.credential.id,
      publicKey: passkey.credential.publicKey,
      rpId: 'localhost',
      origin: 'http://localhost:3002',
    })
    const unknownPasskey = createTestPasskey().credential
    const unknown = unknownPasskey.id
    expect(await findPasskeyAccounts({ client, webAuthnValidator, passkey: unknownPasskey })).toEqual([])
    expect(
      await getPasskey({ client, webAuthnValidator, account: account.address, credentialId: unknown }),
    ).toBe(undefined)

    const deployed = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts,
    })
    expect(await deployed.getFactoryArgs()).toEqual({ factory: undefined, factoryData: undefined })
    const message2 = await deployed.signMessage({ message: 'hello again' })
    expect(
      await client.verifyMessage({ address: account.address, message: 'hello again', signature: message2 }),
    ).toBe(true)
    const typed2 = await deployed.signTypedData(typedData)
    expect(await client.verifyTypedData({ address: account.address, ...typedData, signature: typed2 })).toBe(
      true,
    )

    // another passkey's signature is refused by the deployed account
    const stranger = createTestPasskey()
    const forged = await toSsoAccount({
      client,
      credential: stranger.credential,
      sign: stranger.sign,
      contracts,
      address: account.address,
    })
    const bad = await forged.signMessage({ message: 'hello' })
    expect(await client.verifyMessage({ address: account.address, message: 'hello', signature: bad })).toBe(
      false,
    )
  })

  test('behavior: userOp signatures validate; the dummy signature fails cleanly at the same gas', async () => {
    const passkey = createTestPasskey()
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts,
    })
    const { factory, factoryData } = await account.getFactoryArgs()
    await client.waitForTransactionReceipt({
      hash: await client.sendTransaction({
        to: factory as Address,
        data: factoryData as Hex,
        chain: client.chain,
      }),
    })
    const userOperation = {
      sender: account.address,
      nonce: nonceKey(contracts.webAuthnValidator) << 64n, // no EntryPoint on this chain: sequence 0
      callData: encodeCalls([{ to: zeroAddress, value: 0n }]),
      callGasLimit: 100_000n,
      verificationGasLimit: 500_000n,
      preVerificationGas: 50_000n,
      maxFeePerGas: 1n,
      maxPriorityFeePerGas: 1n,
      signature: '0x' as Hex,
    }
    const signature = await account.signUserOperation(userOperation)
    const { getUserOperationHash } = await import('viem/account-abstraction')
    const userOpHash = getUserOperationHash({
      chainId: 31337,
      entryPointAddress: account.entryPoint.address,
      entryPointVersion: '0.8',
      userOperation,
    })
    const verify = (sig: Hex) =>
      client.readContract({
        address: contracts.webAuthnValidator,
        abi: validatorAbi,
        functionName: 'verify',
        args: [account.address, userOpHash, sig],
      })
    expect(await verify(signature)).toBe(true)
    const dummy = dummySignature(passkey.credential)
    expect(await verify(dummy)).toBe(false)
    expect(await verify('0x1234')).toBe(false) // garbage: false, no revert

    const gas = (sig: Hex) =>
      client.estimateContractGas({
        address: contracts.webAuthnValidator,
        abi: validatorAbi,
        functionName: 'verify',
        args: [account.address, userOpHash, sig],
        account: deployer,
      })
    const [real, stub] = await Promise.all([gas(signature), gas(dummy)])
    // the stub must not under-estimate: it runs the same checks and the P-256 precompile
    expect(Number(stub)).toBeGreaterThanOrEqual(Number(real) * 0.95)
  })

  test('behavior: a first userOp deploys the account and runs a batch through EntryPoint v0.8 handleOps', async () => {
    const passkey = createTestPasskey()
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts,
    })
    await client.waitForTransactionReceipt({
      hash: await client.sendTransaction({
        to: account.address,
        value: parseEther('1'),
        chain: client.chain,
      }),
    })
    const [alice, bob] = [
      '0x000000000000000000000000000000000000a11c',
      '0x0000000000000000000000000000000000000b0b',
    ] as const
    const fees = { maxFeePerGas: (await client.getGasPrice()) * 2n, maxPriorityFeePerGas: 1_000_000n }
    const limits = { callGasLimit: 300_000n, verificationGasLimit: 1_500_000n, preVerificationGas: 100_000n }

    async function userOp(calls: { to: Address; value: bigint }[], sign: (op: never) => Promise<Hex>) {
      const { factory, factoryData } = await account.getFactoryArgs()
      const op = {
        sender: account.address,
        nonce: await account.getNonce(),
        ...(factory ? { factory, factoryData } : {}),
        callData: await account.encodeCalls(calls),
        ...limits,
        ...fees,
        signature: '0x' as Hex,
      }
      op.signature = await sign(op as never)
      return op
    }
    async function handleOps(op: Awaited<ReturnType<typeof userOp>>) {
      const hash = await client.writeContract({
        address: entryPoint08.address,
        abi: entryPoint08Abi,
        functionName: 'handleOps',
        args: [[toPackedUserOperation(op)], deployer.address],
        chain: client.chain,
        gas: 3_000_000n,
      })
      const receipt = await client.waitForTransactionReceipt({ hash })
      const events = receipt.logs
        .filter((log) => log.address.toLowerCase() === entryPoint08.address.toLowerCase())
        .map((log) => {
          try {
            return decodeEventLog({ abi: entryPoint08Abi, ...log })
          } catch {
            return undefined
          }
        })
        .filter((event) => event?.eventName === 'UserOperationEvent')
      return { receipt, events }
    }

    // 1. deploy + batch of two transfers, signed with the passkey
    const first = await userOp(
      [
        { to: alice, value: 1_000n },
        { to: bob, value: 2_000n },
      ],
      (op) => account.signUserOperation(op),
    )
    const { receipt, events } = await handleOps(first)
    expect(receipt.status).toBe('success')
    expect(events).toHaveLength(1)
    expect(events[0]?.args).toMatchObject({ success: true })
    expect(await client.getCode({ address: account.address })).toMatch(/^0x[0-9a-f]{2,}$/) // deployed
    expect(await client.getBalance({ address: alice })).toBe(1_000n)
    expect(await client.getBalance({ address: bob })).toBe(2_000n)

    // 2. deployed: single call, next nonce of the validator's key
    const second = await userOp([{ to: alice, value: 5n }], (op) => account.signUserOperation(op))
    expect(second.nonce).toBe((nonceKey(contracts.webAuthnValidator) << 64n) | 1n)
    expect((await handleOps(second)).receipt.status).toBe('success')
    expect(await client.getBalance({ address: alice })).toBe(1_005n)

    // 3. the dummy signature and a stranger's passkey fail validation cleanly (AA24), never a revert (AA23)
    const stranger = createTestPasskey()
    for (const sign of [
      async () => dummySignature(passkey.credential),
      async (op: never) => {
        const hash = getUserOperationHash({
          chainId: 31337,
          entryPointAddress: entryPoint08.address,
          entryPointVersion: '0.8',
          userOperation: op,
        })
        const { encodeWebAuthnSignature } = await import('./WebAuthnSignature.js')
        return encodeWebAuthnSignature({
          credential: stranger.credential,
          assertion: await stranger.sign(hash),
        })
      },
    ]) {
      const bad = await userOp([{ to: alice, value: 1n }], sign)
      const error = await client
        .simulateContract({
          address: entryPoint08.address,
          abi: entryPoint08Abi,
          functionName: 'handleOps',
          args: [[toPackedUserOperation(bad)], deployer.address],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(error).toBeInstanceOf(ContractFunctionExecutionError)
      const reverted = (error as ContractFunctionExecutionError).walk(
        (cause) => cause instanceof ContractFunctionRevertedError,
      ) as ContractFunctionRevertedError
      expect(reverted.data?.errorName).toBe('FailedOp')
      expect(reverted.data?.args).toEqual([0n, 'AA24 signature error'])
    }
  })
})
