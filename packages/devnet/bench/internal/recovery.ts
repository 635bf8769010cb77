import { encodeWebAuthnSignature, registrationChallenge, toSsoAccount } from '@sso/client/account'
import { createTestPasskey } from '@sso/client/testing'
import { base64UrlToBytes, bytesToHex } from '@sso/client/webauthn'
import { guardianExecutorAbi } from '@sso/contracts-abi'
import { type Address, encodeFunctionData, type Hex, type LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Stack } from '../../src/index.js'
import { type BenchEnv, errorMessage, recipients, table } from './env.js'

// More anvil dev keys (mnemonic "test test … junk"), #5 and #6: two EOA guardians.
const guardianKeys: readonly Hex[] = [
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
]

/** Gas of the recovery flow on one account, 2-of-2 EOA guardians. */
export type RecoveryColumn = {
  /** Passkey userOp of the account: propose both guardians (one batch). */
  propose: bigint
  /** Passkey userOp of the account: set the threshold to 2. */
  setThreshold: bigint
  /** Guardian tx: acceptGuardian (the first one also sets the threshold to 1). */
  accept: bigint
  /** Guardian tx: startRecovery (proposal + its approval; the proof of possession is checked). */
  start: bigint
  /** Guardian tx: approveRecovery reaching the threshold (schedules the delay). */
  approve: bigint
  /** Anyone's tx after the delay: finalizeRecovery (the account adds the passkey through the executor). */
  finalize: bigint
  /** The recovered passkey's first userOp (ETH transfer), proving it signs for the account. */
  recoveredTransfer: bigint
}

/**
 * Measures a recovery on a fresh SsoAccount: the owner (passkey userOp) proposes two EOA guardians with threshold 2,
 * they accept, one starts a recovery adding a new passkey (with its proof of possession), the other approves, the
 * chain and the bundler travel past the 24 h delay, anyone finalizes, and the new passkey sends a userOp. Moves the
 * devnet's clock forward and resets it afterwards.
 */
export async function measureRecovery(stack: Stack, env: BenchEnv): Promise<RecoveryColumn> {
  const executor = stack.contracts.guardianExecutor
  const webAuthnValidator = stack.contracts.webAuthnValidator
  const { accountFactory } = stack.contracts
  if (!executor || !webAuthnValidator || !accountFactory) throw new Error('GuardianExecutor not deployed')
  const [to] = recipients as [Address]
  const owner = await env.newSsoAccount()
  await env.sendUserOperation(owner, [{ to, value: 1n }]) // deploys the account
  const account = owner.address
  const guardians: LocalAccount[] = guardianKeys.map((key) => privateKeyToAccount(key))
  for (const guardian of guardians) await env.fund(guardian.address)
  const call = (data: Hex) => ({ to: executor, data })
  const encode = encodeFunctionData

  const propose = (
    await env.sendUserOperation(owner, [
      ...guardians.map((guardian) =>
        call(encode({ abi: guardianExecutorAbi, functionName: 'proposeGuardian', args: [guardian.address] })),
      ),
    ])
  ).gasUsed
  let accept = 0n
  for (const guardian of guardians)
    accept = (
      await env.sendTransaction(
        guardian,
        call(encode({ abi: guardianExecutorAbi, functionName: 'acceptGuardian', args: [account] })),
      )
    ).gasUsed
  const setThreshold = (
    await env.sendUserOperation(owner, [
      call(encode({ abi: guardianExecutorAbi, functionName: 'setThreshold', args: [2n] })),
    ])
  ).gasUsed

  // The new device's passkey and its proof of possession for this account.
  const passkey = createTestPasskey()
  const proof = encodeWebAuthnSignature({
    credential: passkey.credential,
    assertion: await passkey.sign(
      registrationChallenge({ webAuthnValidator, account, credentialId: passkey.credential.id }),
    ),
  })
  const proposal = {
    credentialId: bytesToHex(base64UrlToBytes(passkey.credential.id)),
    x: passkey.credential.publicKey.x,
    y: passkey.credential.publicKey.y,
    rpId: passkey.credential.rpId,
    origin: passkey.credential.origin,
    proof,
    removedCredentialIds: [],
    revokeSessions: false,
  } as const
  const nonce = (await env.client.readContract({
    address: executor,
    abi: guardianExecutorAbi,
    functionName: 'recoveryNonce',
    args: [account],
  })) as bigint
  const id = (await env.client.readContract({
    address: executor,
    abi: guardianExecutorAbi,
    functionName: 'recoveryId',
    args: [account, nonce, proposal],
  })) as Hex

  const [first, second] = guardians as [LocalAccount, LocalAccount]
  const start = (
    await env.sendTransaction(
      first,
      call(encode({ abi: guardianExecutorAbi, functionName: 'startRecovery', args: [account, proposal] })),
    )
  ).gasUsed
  const approve = (
    await env.sendTransaction(
      second,
      call(encode({ abi: guardianExecutorAbi, functionName: 'approveRecovery', args: [account, id] })),
    )
  ).gasUsed
  try {
    await stack.increaseTime(24 * 3600 + 60)
    const finalize = (
      await env.sendTransaction(
        first,
        call(
          encode({ abi: guardianExecutorAbi, functionName: 'finalizeRecovery', args: [account, proposal] }),
        ),
      )
    ).gasUsed
    const recovered = await toSsoAccount({
      client: env.client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory, webAuthnValidator, entryPoint: stack.contracts.entryPoint },
      address: account,
    })
    const recoveredTransfer = (await env.sendUserOperation(recovered, [{ to, value: 1n }])).gasUsed
    return {
      propose,
      setThreshold,
      accept,
      start,
      approve,
      finalize,
      recoveredTransfer,
    }
  } finally {
    await stack.resetTime()
  }
}

const recoveryRows: [keyof RecoveryColumn, string][] = [
  ['propose', 'owner: propose 2 guardians (passkey userOp, one batch)'],
  ['setThreshold', 'owner: set the threshold to 2 (passkey userOp)'],
  ['accept', 'guardian: accept, the second one (EOA tx)'],
  ['start', 'guardian: start (propose) a recovery, proof checked (EOA tx)'],
  ['approve', 'guardian: approve, reaches 2-of-2 and schedules (EOA tx)'],
  ['finalize', 'anyone: finalize after the delay, adds the passkey (tx)'],
  ['recoveredTransfer', 'recovered passkey: ETH transfer (userOp, self-funded)'],
]

/** The "Recovery" part of `pnpm bench:gas`, as a markdown table. */
export async function runRecoveryBench(stack: Stack, env: BenchEnv): Promise<string> {
  let column: RecoveryColumn | undefined
  let error: string | undefined
  try {
    column = await measureRecovery(stack, env)
  } catch (caught) {
    if (process.env.BENCH_DEBUG) console.error(caught)
    error = errorMessage(caught)
  }
  const format = (value: bigint | undefined) => (value === undefined ? '—' : value.toLocaleString('en-US'))
  const lines = [
    'Recovery (GuardianExecutor, EOA guardians, 2-of-2, default 24 h delay; gas of each tx or handleOps tx)',
    '',
    table(
      ['operation', 'gas'],
      recoveryRows.map(([row, label]) => [label, format(column?.[row])]),
    ),
  ]
  if (error) lines.push('', `Recovery: not measured (${error})`)
  return lines.join('\n')
}
