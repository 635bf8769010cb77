// @vitest-environment node
/**
 * The recovery helpers against the real GuardianExecutor and WebAuthnValidator on a real anvil (osaka), deployed
 * as the devnet deploys them. The account's own calls are sent from its address (anvil impersonation): the
 * executor only looks at `msg.sender`; the devnet bench and e2e cover the same calls inside passkey userOps.
 */
import { type Address, BaseError, decodeErrorResult, type Hex, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Call } from './Execution.js'
import { type AnvilClient, deployer, startAnvilChain } from './internal/anvilChain.js'
import {
  acceptGuardian,
  approvalTypedData,
  approveRecoveryWithSignatures,
  cancelRecovery,
  finalizeRecovery,
  getRecoveryState,
  guardianExecutorAbi,
  proposeGuardian,
  recoveryBounds,
  recoveryId,
  setRecoveryDelay,
  signRecoveryProposal,
  startRecovery,
} from './Recovery.js'
import { toSsoAccount, webAuthnValidatorAbi } from './SsoAccount.js'
import { createTestPasskey } from './testing/index.js'

// anvil account #3 (the guardian): a well-known test key.
const guardian = privateKeyToAccount('0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6')

let stopChain: (() => void) | undefined
let client: AnvilClient
let contracts: { accountFactory: Address; webAuthnValidator: Address; guardianExecutor: Address }

beforeAll(async () => {
  const chain = await startAnvilChain()
  stopChain = chain.stop
  client = chain.client
  const at = (name: string): Address => {
    const address = chain.contracts[name]
    if (!address) throw new Error(`${name} is not in the deployment plan`)
    return address
  }
  contracts = {
    accountFactory: at('AccountFactory'),
    webAuthnValidator: at('WebAuthnValidator'),
    guardianExecutor: at('GuardianExecutor'),
  }
}, 600_000)

afterAll(() => {
  stopChain?.()
})

/** A deployed SSO account whose own calls this test sends from its address. */
async function deployAccount(): Promise<Address> {
  const owner = createTestPasskey()
  const account = await toSsoAccount({ client, credential: owner.credential, sign: owner.sign, contracts })
  const { factory, factoryData } = await account.getFactoryArgs()
  await client.waitForTransactionReceipt({
    hash: await client.sendTransaction({
      to: factory as Address,
      data: factoryData as Hex,
      chain: client.chain,
    }),
  })
  await client.setBalance({ address: account.address, value: parseEther('1') })
  await client.impersonateAccount({ address: account.address })
  return account.address
}

async function send(from: Address | typeof guardian | typeof deployer, call: Call) {
  const hash = await client.sendTransaction({
    account: from,
    to: call.to,
    data: call.data,
    chain: client.chain,
  })
  const receipt = await client.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
}

/** The GuardianExecutor error `call` reverts with. */
async function revertOf(call: Call, from: Address = deployer.address): Promise<string> {
  try {
    await client.call({ account: from, to: call.to, data: call.data })
  } catch (error) {
    // The node's revert data rides on the RPC error inside viem's error chain.
    const withData =
      error instanceof BaseError
        ? error.walk((e) => typeof (e as { data?: unknown }).data === 'string')
        : undefined
    const bytes = (withData as { data?: Hex } | null | undefined)?.data
    if (!bytes) throw error
    return decodeErrorResult({ abi: guardianExecutorAbi, data: bytes }).errorName
  }
  throw new Error('Expected the call to revert')
}

async function passkeyState(account: Address, passkey: ReturnType<typeof createTestPasskey>) {
  const { credential } = passkey
  const id = `0x${Buffer.from(credential.id, 'base64url').toString('hex')}` as Hex
  return client.readContract({
    address: contracts.webAuthnValidator,
    abi: webAuthnValidatorAbi,
    functionName: 'passkeyState',
    args: [
      account,
      id,
      credential.publicKey.x,
      credential.publicKey.y,
      credential.rpId ?? 'localhost',
      credential.origin,
    ],
  })
}

/** An account with `guardian` proposed, accepted and a 1-hour delay. */
async function accountWithGuardian() {
  const executor = contracts.guardianExecutor
  const account = await deployAccount()
  await send(account, proposeGuardian({ executor, guardian: guardian.address }))
  await send(account, setRecoveryDelay({ executor, delay: 3_600n }))
  expect((await getRecoveryState({ client, executor, account })).guardians).toEqual([
    { address: guardian.address, status: 'proposed' },
  ])
  await send(guardian, acceptGuardian({ executor, account }))
  return account
}

async function newDeviceProposal(account: Address) {
  const passkey = createTestPasskey()
  const proposal = await signRecoveryProposal({
    webAuthnValidator: contracts.webAuthnValidator,
    account,
    credential: passkey.credential,
    sign: passkey.sign,
  })
  return { passkey, proposal }
}

describe('guardian recovery on chain', () => {
  test("behavior: recoveryBounds are the contract's constants", async () => {
    const read = (functionName: 'MIN_DELAY' | 'MAX_DELAY' | 'DEFAULT_DELAY' | 'RECOVERY_WINDOW') =>
      client.readContract({ address: contracts.guardianExecutor, abi: guardianExecutorAbi, functionName })
    expect({
      minDelay: await read('MIN_DELAY'),
      maxDelay: await read('MAX_DELAY'),
      defaultDelay: await read('DEFAULT_DELAY'),
      window: await read('RECOVERY_WINDOW'),
    }).toEqual({
      minDelay: recoveryBounds.minDelay,
      maxDelay: recoveryBounds.maxDelay,
      defaultDelay: recoveryBounds.defaultDelay,
      window: recoveryBounds.window,
    })
  })

  test('behavior: set up, a guardian signature (relayed), the delay, finalize: the new passkey is Proven', async () => {
    const executor = contracts.guardianExecutor
    const account = await accountWithGuardian()
    const before = await getRecoveryState({ client, executor, account })
    expect(before).toMatchObject({
      guardians: [{ address: guardian.address, status: 'accepted' }],
      threshold: 1n,
      delay: 3_600n,
      pending: { status: 'none', approvals: 0n },
    })

    const { passkey, proposal } = await newDeviceProposal(account)
    const signature = await guardian.signTypedData(
      approvalTypedData({ executor, chainId: 31337, account, nonce: before.nonce, proposal }),
    )
    await send(
      deployer,
      approveRecoveryWithSignatures({
        executor,
        account,
        proposal,
        signatures: [{ guardian: guardian.address, signature }],
      }),
    )
    const scheduled = await getRecoveryState({ client, executor, account })
    const { timestamp } = await client.getBlock()
    expect(scheduled.pending).toMatchObject({
      status: 'delayed',
      id: recoveryId({ account, nonce: before.nonce, proposal }),
      approvals: 1n,
      readyAt: timestamp + 3_600n,
      expiresAt: timestamp + 3_600n + 7n * 86_400n,
    })
    expect(await revertOf(finalizeRecovery({ executor, account, proposal }))).toBe('RecoveryNotReady')
    expect(await passkeyState(account, passkey)).toBe(0)

    await client.increaseTime({ seconds: 3_600 })
    await client.mine({ blocks: 1 })
    expect((await getRecoveryState({ client, executor, account })).pending.status).toBe('ready')
    await send(deployer, finalizeRecovery({ executor, account, proposal }))
    expect(await passkeyState(account, passkey)).toBe(2) // Proven
    expect((await getRecoveryState({ client, executor, account })).pending.status).toBe('none')
  }, 120_000)

  test('behavior: the account cancels a started recovery; it can no longer be finalized', async () => {
    const executor = contracts.guardianExecutor
    const account = await accountWithGuardian()
    const { passkey, proposal } = await newDeviceProposal(account)
    await send(guardian, startRecovery({ executor, account, proposal }))
    expect((await getRecoveryState({ client, executor, account })).pending.status).toBe('delayed')

    await send(account, cancelRecovery({ executor }))
    expect((await getRecoveryState({ client, executor, account })).pending.status).toBe('none')
    await client.increaseTime({ seconds: 3_600 })
    await client.mine({ blocks: 1 })
    expect(await revertOf(finalizeRecovery({ executor, account, proposal }))).toBe('NoPendingRecovery')
    expect(await passkeyState(account, passkey)).toBe(0)
  }, 120_000)

  test('error: a proof signed for another account is refused at start', async () => {
    const executor = contracts.guardianExecutor
    const account = await accountWithGuardian()
    const { proposal } = await newDeviceProposal(await deployAccount())
    expect(await revertOf(startRecovery({ executor, account, proposal }), guardian.address)).toBe(
      'InvalidPasskeyProof',
    )
  }, 120_000)
})
