import { sessionKeyValidatorAbi as generatedAbi } from '@sso/contracts-abi'
import {
  type AbiItem,
  type Address,
  createPublicClient,
  custom,
  defineChain,
  encodeFunctionData,
  type Hex,
  parseEther,
  size,
  sliceHex,
  toFunctionSelector,
} from 'viem'
import { describe, expect, test } from 'vitest'
import { encodeSessionSignature, sessionKeyValidatorAbi, toSessionAccount } from './SessionAccount.js'
import {
  createMemoryKeyStore,
  createP256SessionSigner,
  createSecp256k1SessionSigner,
} from './SessionSigner.js'
import { lifetime, type SessionSpec, transferPolicy } from './SessionSpec.js'
import { encodeSessionSpec } from './SessionSpecEncoding.js'

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

const chain = defineChain({
  id: 31337,
  name: 'x',
  nativeCurrency: { name: 'E', symbol: 'E', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1:1'] } },
})

/** Splits `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature`. */
function split(signature: Hex) {
  const specLength = Number(BigInt(sliceHex(signature, 0, 2)))
  return {
    specLength,
    spec: sliceHex(signature, 2, 2 + specLength),
    timestamp: Number(BigInt(sliceHex(signature, 2 + specLength, 8 + specLength))),
    signerSignature: sliceHex(signature, 8 + specLength),
  }
}

describe('SessionAccount', () => {
  test('behavior: the userOp signature is uint16 specLength ‖ packed spec ‖ uint48 timestamp ‖ signature', () => {
    const s = spec('0x6666666666666666666666666666666666666666')
    const signature = `0x${'ab'.repeat(65)}` as const
    const encoded = encodeSessionSignature({ spec: s, timestamp: 1_700_000_000, signature })
    const packed = encodeSessionSpec(s)
    // 1 + 20 + 6 + 18 + 1 + 1 + 51 = 98 bytes of spec
    expect(size(packed)).toBe(98)
    expect(sliceHex(encoded, 0, 2)).toBe('0x0062')
    expect(size(encoded)).toBe(2 + 98 + 6 + 65)
    expect(split(encoded)).toEqual({
      specLength: 98,
      spec: packed,
      timestamp: 1_700_000_000,
      signerSignature: signature,
    })
    expect(sliceHex(encoded, 100, 106)).toBe('0x00006553f100') // 1_700_000_000, 6 bytes big-endian
    expect(() => encodeSessionSignature({ spec: s, timestamp: 2 ** 48, signature })).toThrow(/uint48/)
  })

  test('behavior: the stub signatures have the real layout and lengths (65 bytes secp256k1, 64 bytes P-256)', async () => {
    const client = createPublicClient({ chain, transport: custom({ request: async () => null }) })
    const signers = [
      await createSecp256k1SessionSigner({ store: createMemoryKeyStore() }),
      await createP256SessionSigner({ store: createMemoryKeyStore() }),
    ]
    for (const [signer, length] of [
      [signers[0]!, 65],
      [signers[1]!, 64],
    ] as const) {
      const s = spec(signer.publicKey)
      const session = await toSessionAccount({
        client,
        address: account,
        spec: s,
        signer,
        validator,
        timestamp: async () => 1_800_000_000,
      })
      const parts = split(await session.getStubSignature())
      expect(parts.spec, signer.kind).toBe(encodeSessionSpec(s))
      expect(parts.timestamp).toBe(1_800_000_000)
      expect(size(parts.signerSignature), signer.kind).toBe(length)
    }
  })

  test('behavior: the ABI takes the packed spec as bytes', () => {
    const s = spec('0x6666666666666666666666666666666666666666')
    const data = encodeFunctionData({
      abi: sessionKeyValidatorAbi,
      functionName: 'createSession',
      args: [encodeSessionSpec(s)],
    })
    expect(sliceHex(data, 0, 4)).toBe(toFunctionSelector('function createSession(bytes)'))
    const names = sessionKeyValidatorAbi.map((item) => `${item.type} ${item.name}`)
    expect(names).toContain('event SessionCreated')
  })

  test('error: the signer must be the spec’s signer, and the client needs a chain', async () => {
    const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
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

describe('sessionKeyValidatorAbi', () => {
  test('behavior: every item is in the generated contract ABI with the same inputs, outputs and indexing', () => {
    type Param = { type: string; indexed?: boolean; components?: readonly Param[] }
    const param = (p: Param): string =>
      `${p.components ? `(${p.components.map(param).join(',')})${p.type.slice(5)}` : p.type}${p.indexed ? ' indexed' : ''}`
    const key = (item: AbiItem) => {
      const i = item as { type: string; name?: string; inputs?: readonly Param[]; outputs?: readonly Param[] }
      return `${i.type} ${i.name}(${(i.inputs ?? []).map(param).join(',')}) -> (${(i.outputs ?? []).map(param).join(',')})`
    }
    const generated = new Set((generatedAbi as readonly AbiItem[]).map(key))
    for (const item of sessionKeyValidatorAbi) expect(generated, item.name).toContain(key(item as AbiItem))
    expect(key(sessionKeyValidatorAbi[0] as AbiItem)).toBe('function createSession(bytes) -> (bytes32)')
  })
})
