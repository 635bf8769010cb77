import { getUserOperationHash } from 'viem/account-abstraction'
import { beforeEach, expect, test, vi } from 'vitest'
import type { SsoChainConfig } from './config'
import { AccountError } from './errors'
import { maxPreparedAge, prepareCalls, sendCalls, withCallGasHeadroom } from './userOperations'

// The chain and the bundler are faked (this is the popup's own logic: what it checks before the passkey).
const state = { balance: 0n, deposit: 0n, prepareError: undefined as unknown, nonce: 0n }
const sent: unknown[] = []
// What was built (prepareUserOperation) and what the paymaster service was asked, in order.
const calls: string[] = []
type Paymaster = {
  getPaymasterStubData: (p: unknown) => Promise<Record<string, unknown>>
  getPaymasterData: (p: unknown) => Promise<Record<string, unknown>>
}
vi.mock('viem/account-abstraction', async (original) => ({
  ...(await original<typeof import('viem/account-abstraction')>()),
  createPaymasterClient: () => ({
    getPaymasterStubData: async () => {
      calls.push('pm_getPaymasterStubData')
      return { paymaster: service, paymasterData: '0x5757', isFinal: false }
    },
    getPaymasterData: async (op: { callGasLimit: bigint }) => {
      calls.push(`pm_getPaymasterData(callGasLimit ${op.callGasLimit})`)
      return { paymaster: service, paymasterData: '0x5166' }
    },
  }),
}))
const service = '0x7777777777777777777777777777777777777777'
vi.mock('./chains', () => ({
  getPublicClient: () => ({
    getBalance: async () => state.balance,
    readContract: async () => state.deposit,
  }),
  getBundlerClient: () => ({
    // As viem does: the paymaster's stub for the estimate, then its data for the final fields.
    prepareUserOperation: async (args: { paymaster?: Paymaster }) => {
      calls.push('prepareUserOperation')
      if (state.prepareError) throw state.prepareError
      const op = opFields()
      if (!args.paymaster) return op
      await args.paymaster.getPaymasterStubData(op)
      return { ...op, ...(await args.paymaster.getPaymasterData(op)) }
    },
    request: async (request: unknown) => {
      sent.push(request)
      return `0x${'ab'.repeat(32)}`
    },
  }),
}))

const opFields = () => ({
  callGasLimit: 50_000n,
  verificationGasLimit: 100_000n,
  preVerificationGas: 50_000n,
  maxFeePerGas: 10n ** 9n, // 210,000 gas (with the call's 10,000 headroom) x 1 gwei = 0.00021 ETH at most
  maxPriorityFeePerGas: 10n ** 9n,
  sender: account.address,
  nonce: state.nonce,
  callData: '0x' as const,
})
const signUserOperation = vi.fn(async () => '0x01' as const)
const account = {
  address: '0x1111111111111111111111111111111111111111',
  entryPoint: { address: '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108' },
  signUserOperation,
} as const
const chain = {
  id: 31337,
  name: 'Anvil',
  bundlerUrl: 'http://127.0.0.1:4337',
  contracts: {},
} as SsoChainConfig
const send = (value: bigint, payer: Parameters<typeof sendCalls>[0]['payer'] = { kind: 'account' }) =>
  sendCalls({ chain, account: account as never, calls: [{ to: account.address, value }], payer })

beforeEach(() => {
  state.balance = 0n
  state.deposit = 0n
  state.prepareError = undefined
  state.nonce += 1n // each test its own nonce (the module remembers the nonces it sent)
  sent.length = 0
  calls.length = 0
  signUserOperation.mockClear()
})

test('error: sending more ETH than the account holds says how much is missing; no passkey asked, nothing sent', async () => {
  state.balance = 10n ** 15n // 0.001 ETH
  const error = await send(5n * 10n ** 18n, { kind: 'sponsor', address: account.address }).catch((e) => e)
  expect(error).toBeInstanceOf(AccountError)
  expect(error).toMatchObject({
    code: -32003,
    message: `The account can’t pay for this: it needs 5 ETH to send, and holds 0.001 ETH. Add at least 4.999 ETH to ${account.address}, then try again. Nothing was signed.`,
    data: { reason: 'insufficient-funds', missing: `0x${(5n * 10n ** 18n - 10n ** 15n).toString(16)}` },
  })
  expect(signUserOperation).not.toHaveBeenCalled()
  expect(sent).toEqual([])
})

test('error: a self-paid operation the account cannot fund counts the gas, net of its EntryPoint deposit', async () => {
  state.balance = 10n ** 14n // 0.0001 ETH
  state.deposit = 5n * 10n ** 13n // 0.00005 ETH
  const error = await send(0n).catch((e) => e)
  expect(error).toMatchObject({
    code: -32003,
    message: `The account can’t pay for this: it needs up to 0.00021 ETH for gas, and holds 0.0001 ETH plus a 0.00005 ETH EntryPoint deposit. Add at least 0.00006 ETH to ${account.address}, then try again. Nothing was signed.`,
  })
  expect(signUserOperation).not.toHaveBeenCalled()
})

test('error: a call that would revert is refused with its decoded reason before the passkey', async () => {
  state.balance = 10n ** 18n
  state.prepareError = Object.assign(new Error('Execution reverted'), {
    details: 'UserOperation reverted during simulation with reason: 0x',
  })
  const error = await send(1n).catch((e) => e)
  expect(error).toMatchObject({
    code: -32003,
    message: 'This transaction would fail: it reverted without a reason. Nothing was signed.',
    data: { reason: 'revert', revert: { name: undefined, data: '0x' } },
  })
  expect(signUserOperation).not.toHaveBeenCalled()
})

test('behavior: a payable operation is signed once and sent as prepared', async () => {
  state.balance = 10n ** 18n
  expect(await send(10n ** 17n)).toBe(`0x${'ab'.repeat(32)}`)
  expect(signUserOperation).toHaveBeenCalledTimes(1)
  expect(sent).toMatchObject([
    {
      method: 'eth_sendUserOperation',
      params: [{ sender: account.address, signature: '0x01' }, account.entryPoint.address],
    },
  ])
})

test('error: a paymaster service that refuses is named with its reason; no passkey asked, nothing sent', async () => {
  // What viem throws for the service's JSON-RPC error, wrapped as prepareUserOperation wraps it.
  const refusal = Object.assign(new Error('RPC Request failed.'), {
    code: -32001,
    details: 'Not sponsored: this account has used its sponsorship for today.',
    data: { reason: 'account-daily-cap', left: '0x0' },
  })
  state.prepareError = Object.assign(new Error('Paymaster failed'), { cause: refusal })
  const error = await send(0n, { kind: 'service', url: 'http://127.0.0.1:3010' }).catch((e) => e)
  expect(error).toBeInstanceOf(AccountError)
  expect(error).toMatchObject({
    code: -32003,
    message:
      'The paymaster service won’t pay for this: Not sponsored: this account has used its sponsorship for today. Nothing was signed.',
    data: {
      reason: 'not-sponsored',
      service: 'http://127.0.0.1:3010',
      refusal: { reason: 'account-daily-cap' },
    },
  })
  expect(signUserOperation).not.toHaveBeenCalled()
  expect(sent).toEqual([])
})

test('behavior: the hash of the signed operation is announced before it goes to the bundler, and is the one it takes', async () => {
  state.balance = 10n ** 18n
  const announced: { hash: string; sentBefore: number }[] = []
  const hash = await sendCalls({
    chain,
    account: account as never,
    calls: [{ to: account.address, value: 1n }],
    payer: { kind: 'account' },
    onSending: (userOpHash) => announced.push({ hash: userOpHash, sentBefore: sent.length }),
  })
  expect(announced).toHaveLength(1)
  // Announced while nothing had gone to the bundler yet: a popup closed mid-request is still covered.
  expect(announced[0]?.sentBefore).toBe(0)
  expect(sent).toHaveLength(1)
  expect(announced[0]?.hash).toBe(
    getUserOperationHash({
      userOperation: { ...opFields(), callGasLimit: withCallGasHeadroom(50_000n), signature: '0x01' },
      entryPointAddress: account.entryPoint.address,
      entryPointVersion: '0.8',
      chainId: chain.id,
    }),
  )
  expect(hash).toBe(`0x${'ab'.repeat(32)}`)
})

/** One call of 1 wei, paid by the account: what `prepareCalls` / `sendCalls` take. */
const selfPaid = () => ({
  chain,
  account: account as never,
  calls: [{ to: account.address, value: 1n }],
  payer: { kind: 'account' } as const,
})

test('behavior: an operation built while the screen is read is signed and sent as built, with nothing built again', async () => {
  state.balance = 10n ** 18n
  const from = selfPaid()
  const ready = prepareCalls(from)
  await ready
  expect(calls).toEqual(['prepareUserOperation'])
  await sendCalls(from, ready)
  expect(calls).toEqual(['prepareUserOperation'])
  expect(signUserOperation).toHaveBeenCalledTimes(1)
  expect(sent).toHaveLength(1)
})

test('behavior: one built too long ago, or whose nonce was sent since, is built again before the passkey', async () => {
  state.balance = 10n ** 18n
  const from = selfPaid()
  const now = Date.now()
  const clock = vi.spyOn(Date, 'now').mockReturnValue(now)
  const old = prepareCalls(from)
  await old
  clock.mockReturnValue(now + maxPreparedAge + 1)
  await sendCalls(from, old)
  expect(calls).toEqual(['prepareUserOperation', 'prepareUserOperation'])
  // Built before the send above with the same nonce: stale too.
  clock.mockReturnValue(now + maxPreparedAge + 2)
  const sameNonce = prepareCalls(from)
  await sameNonce
  calls.length = 0
  await sendCalls(from, sameNonce)
  expect(calls).toEqual(['prepareUserOperation'])
  clock.mockRestore()
})

test('behavior: a paymaster service gives only its stub before Approve and signs the final operation after it', async () => {
  const from = {
    chain,
    account: account as never,
    calls: [{ to: account.address, value: 0n }],
    payer: { kind: 'service', url: 'http://127.0.0.1:3010' } as const,
  }
  const ready = prepareCalls(from)
  await ready
  // Built and estimated: the service was only asked for stubs (nothing it counts).
  expect(calls).toEqual(['prepareUserOperation', 'pm_getPaymasterStubData', 'pm_getPaymasterStubData'])
  await sendCalls(from, ready)
  // It signs the limits that are sent: the estimate (50,000) with the call's headroom.
  expect(calls.slice(3)).toEqual(['pm_getPaymasterData(callGasLimit 60000)'])
  expect(sent).toMatchObject([
    {
      params: [
        { paymaster: service, paymasterData: '0x5166', signature: '0x01' },
        account.entryPoint.address,
      ],
    },
  ])
})

test('behavior: the call gas limit sent is the estimate plus 10% + 5,000, at most 30,000 more (under the 40k penalty threshold)', async () => {
  expect(withCallGasHeadroom(0n)).toBe(5_000n)
  expect(withCallGasHeadroom(50_000n)).toBe(60_000n)
  expect(withCallGasHeadroom(250_000n)).toBe(280_000n)
  expect(withCallGasHeadroom(2_000_000n)).toBe(2_030_000n)
  state.balance = 10n ** 18n
  await send(1n)
  expect(sent).toMatchObject([{ params: [{ callGasLimit: '0xea60' }, account.entryPoint.address] }])
})
