import { entryPoint08 } from '@sso/contracts-abi'
import { type Hex, hashTypedData, numberToHex, recoverAddress } from 'viem'
import { afterEach, describe, expect, test } from 'vitest'
import {
  createSponsor,
  type PaymasterService,
  PaymasterServiceError,
  paymasterErrorCodes,
  type SponsorshipPolicy,
  startPaymasterService,
} from './PaymasterService.js'

const paymaster = '0x0844396cCA45e4e08b16edbd81d5659A16896473'
const signerKey: Hex = '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6'
const sender = '0x1111111111111111111111111111111111111111'
const gwei = 1_000_000_000n

/** An ERC-7769 userOp as viem's paymaster client sends it: 100k gas in all at 1 gwei, plus the paymaster's limits. */
const op = (overrides: Record<string, unknown> = {}) => ({
  sender,
  nonce: '0x0',
  callData: '0xb61d27f6',
  callGasLimit: numberToHex(30_000n),
  verificationGasLimit: numberToHex(50_000n),
  preVerificationGas: numberToHex(20_000n),
  maxFeePerGas: numberToHex(gwei),
  maxPriorityFeePerGas: numberToHex(gwei),
  paymasterVerificationGasLimit: numberToHex(60_000n),
  paymasterPostOpGasLimit: '0x0',
  signature: '0x',
  ...overrides,
})
const params = (userOp: unknown, context?: unknown) => [userOp, entryPoint08.address, '0x7a69', context]
const policy: SponsorshipPolicy = {
  apps: ['https://shop.example'],
  perAccountPerDay: 400_000n * gwei, // two of the 160k-gas ops above
  perDay: 900_000n * gwei, // five and a half of them
  validForSeconds: 600,
}
let now = 1_800_000_000
const sponsor = () => createSponsor({ chainId: 31337, paymaster, signerKey, policy, now: () => now })
const app = { app: 'https://shop.example' }

function refusal(run: () => unknown): PaymasterServiceError {
  try {
    run()
  } catch (error) {
    if (error instanceof PaymasterServiceError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('the sponsorship policy and the signature', () => {
  test('behavior: the data is the validity window and a signature of the verifying signer over the EIP-712 request', async () => {
    const s = sponsor()
    const { paymasterData, paymaster: named } = await s.data(params(op(), app))
    expect(named).toBe(paymaster)
    expect(paymasterData.length).toBe(2 + 2 * (6 + 6 + 65))
    const validAfter = Number.parseInt(paymasterData.slice(2, 14), 16)
    const validUntil = Number.parseInt(paymasterData.slice(14, 26), 16)
    expect(validAfter).toBe(0)
    expect(validUntil).toBe(now + 600)
    // The same EIP-712 hash as the contract's getHash (checked against the deployed contract in Erc7562.devnet.test).
    const hash = hashTypedData({
      domain: { name: 'SponsorPaymaster', version: '1', chainId: 31337, verifyingContract: paymaster },
      types: {
        UserOperationRequest: [
          { name: 'sender', type: 'address' },
          { name: 'nonce', type: 'uint256' },
          { name: 'initCode', type: 'bytes' },
          { name: 'callData', type: 'bytes' },
          { name: 'accountGasLimits', type: 'bytes32' },
          { name: 'preVerificationGas', type: 'uint256' },
          { name: 'gasFees', type: 'bytes32' },
          { name: 'paymasterVerificationGasLimit', type: 'uint256' },
          { name: 'paymasterPostOpGasLimit', type: 'uint256' },
          { name: 'validAfter', type: 'uint48' },
          { name: 'validUntil', type: 'uint48' },
        ],
      },
      primaryType: 'UserOperationRequest',
      message: {
        sender,
        nonce: 0n,
        initCode: '0x',
        callData: '0xb61d27f6',
        accountGasLimits: `0x${(50_000).toString(16).padStart(32, '0')}${(30_000).toString(16).padStart(32, '0')}`,
        preVerificationGas: 20_000n,
        gasFees: `0x${gwei.toString(16).padStart(32, '0')}${gwei.toString(16).padStart(32, '0')}`,
        paymasterVerificationGasLimit: 60_000n,
        paymasterPostOpGasLimit: 0n,
        validAfter,
        validUntil,
      },
    })
    expect(await recoverAddress({ hash, signature: `0x${paymasterData.slice(26)}` })).toBe(s.signer)
  })

  test('behavior: the stub has the final data size and gas limits, and counts nothing', () => {
    const s = sponsor()
    const stub = s.stubData(params(op({ callGasLimit: undefined, verificationGasLimit: undefined }), app))
    expect(stub.paymasterData.length).toBe(2 + 2 * 77)
    expect(BigInt(stub.paymasterVerificationGasLimit)).toBeGreaterThan(0n)
    expect(stub.isFinal).toBe(false)
    expect(s.spentToday(sender)).toBe(0n)
  })

  test('error: an app not on the list is not sponsored, and nothing is counted', async () => {
    const s = sponsor()
    for (const context of [undefined, { app: 'https://evil.example' }, 'https://shop.example']) {
      const error = refusal(() => s.stubData(params(op(), context)))
      expect(error.code).toBe(paymasterErrorCodes.notSponsored)
      expect(error.data?.reason).toBe('app-not-allowed')
    }
    await expect(s.data(params(op(), { app: 'https://evil.example' }))).rejects.toThrow(/not on the list/)
    expect(s.spentToday('*')).toBe(0n)
  })

  test('error: an account over its daily cap is refused until the next UTC day; the total cap holds for all', async () => {
    const s = sponsor()
    await s.data(params(op(), app))
    await s.data(params(op({ nonce: '0x1' }), app))
    expect(s.spentToday(sender)).toBe(320_000n * gwei)
    const error = refusal(() => s.stubData(params(op({ nonce: '0x2' }), app)))
    expect(error.data).toMatchObject({ reason: 'account-daily-cap', left: numberToHex(80_000n * gwei) })
    const other = '0x2222222222222222222222222222222222222222'
    await s.data(params(op({ sender: other }), app))
    await s.data(params(op({ sender: other, nonce: '0x1' }), app))
    const third = '0x3333333333333333333333333333333333333333'
    await s.data(params(op({ sender: third }), app))
    expect(refusal(() => s.stubData(params(op({ sender: third, nonce: '0x1' }), app))).data?.reason).toBe(
      'daily-cap',
    )
    now += 86_400
    expect(s.spentToday(sender)).toBe(0n)
    await expect(s.data(params(op({ nonce: '0x2' }), app))).resolves.toMatchObject({ paymaster })
  })

  test('error: requests that are not a v0.8 userOp of this chain are refused as invalid params', () => {
    const s = sponsor()
    const bad: unknown[] = [
      'not an array',
      [op()],
      [op(), '0x0000000071727De22E5E9d8BAf0edAc6f37da032', '0x7a69', app],
      [op(), entryPoint08.address, '0x1', app],
      params(op({ sender: '0x12' }), app),
      params(op({ callGasLimit: 12 }), app),
      params(op({ callData: '0xzz' }), app),
      params(op({ factory: 'nope' }), app),
    ]
    for (const request of bad) {
      const error = refusal(() => s.stubData(request))
      expect(error.code, JSON.stringify(request)).toBe(paymasterErrorCodes.invalidParams)
    }
  })
})

describe('over HTTP', () => {
  let service: PaymasterService | undefined
  afterEach(async () => {
    await service?.close()
  })
  const call = async (body: unknown) => {
    const response = await fetch(service!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
    return {
      status: response.status,
      cors: response.headers.get('access-control-allow-origin'),
      json: await response.json(),
    }
  }

  test('behavior: JSON-RPC answers with CORS; refusals carry their reason; unknown methods and bad JSON are errors', async () => {
    service = await startPaymasterService({ port: 0, chainId: 31337, paymaster, signerKey, policy })
    const ok = await call({ jsonrpc: '2.0', id: 7, method: 'pm_getPaymasterData', params: params(op(), app) })
    expect(ok).toMatchObject({ status: 200, cors: '*', json: { id: 7, result: { paymaster } } })
    const refused = await call({
      jsonrpc: '2.0',
      id: 8,
      method: 'pm_getPaymasterStubData',
      params: params(op()),
    })
    expect(refused.json.error).toMatchObject({ code: -32001, data: { reason: 'app-not-allowed' } })
    expect((await call({ jsonrpc: '2.0', id: 9, method: 'eth_chainId' })).json.error.code).toBe(-32601)
    expect((await call('{not json')).json.error.code).toBe(-32700)
  })
})
