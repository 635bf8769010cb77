import {
  type Address,
  createPublicClient,
  custom,
  decodeAbiParameters,
  defineChain,
  parseEther,
  sliceHex,
} from 'viem'
import { describe, expect, test } from 'vitest'
import { encodeSessionSignature, toSessionAccount } from './SessionAccount.js'
import { createMemoryKeyStore, createSecp256k1SessionSigner } from './SessionSigner.js'
import {
  lifetime,
  type SessionSpec,
  sessionSpecAbiParameter,
  toSpecStruct,
  transferPolicy,
} from './SessionSpec.js'

const friend: Address = '0x4444444444444444444444444444444444444444'
const validator: Address = '0x5555555555555555555555555555555555555555'
const account: Address = '0x1111111111111111111111111111111111111111'

function spec(signer: `0x${string}`): SessionSpec {
  return {
    signer,
    expiresAt: 2_000_000_000,
    feeLimit: lifetime(parseEther('0.01')),
    callPolicies: [],
    transferPolicies: [transferPolicy({ target: friend, maxValuePerUse: 1n, valueLimit: lifetime(2n) })],
  }
}

describe('SessionAccount', () => {
  test('behavior: the userOp signature is abi.encode(spec, uint48 timestamp, bytes signature) (head: 3 words)', () => {
    const s = spec('0x6666666666666666666666666666666666666666')
    const signature = `0x${'ab'.repeat(65)}` as const
    const encoded = encodeSessionSignature({ spec: s, timestamp: 1_700_000_000, signature })
    expect(BigInt(sliceHex(encoded, 0, 32))).toBe(0x60n) // spec offset right after the 3-word head
    expect(BigInt(sliceHex(encoded, 32, 64))).toBe(1_700_000_000n)
    const [decoded, timestamp, inner] = decodeAbiParameters(
      [sessionSpecAbiParameter, { type: 'uint48' }, { type: 'bytes' }],
      encoded,
    )
    expect(timestamp).toBe(1_700_000_000)
    expect(inner).toBe(signature)
    expect(decoded).toEqual(toSpecStruct(s))
  })

  test('error: the signer must be the spec’s signer, and the client needs a chain', async () => {
    const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
    const chain = defineChain({
      id: 31337,
      name: 'x',
      nativeCurrency: { name: 'E', symbol: 'E', decimals: 18 },
      rpcUrls: { default: { http: ['http://127.0.0.1:1'] } },
    })
    const transport = custom({ request: async () => null })
    const client = createPublicClient({ chain, transport })
    await expect(
      toSessionAccount({ client, address: account, spec: spec(friend), signer, validator }),
    ).rejects.toThrow(/does not match/)
    await expect(
      toSessionAccount({
        client: createPublicClient({ transport }),
        address: account,
        spec: spec(signer.publicKey),
        signer,
        validator,
      }),
    ).rejects.toThrow(/with a chain/)
    const ok = await toSessionAccount({
      client,
      address: account,
      spec: spec(signer.publicKey),
      signer,
      validator,
    })
    expect(ok.address).toBe(account)
    await expect(ok.signMessage({ message: 'hi' })).rejects.toThrow(/does not sign messages/)
  })
})
