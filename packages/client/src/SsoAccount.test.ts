import { p256 } from '@noble/curves/nist.js'
import { ssoAccountAbi } from '@sso/contracts-abi'
import {
  concatHex,
  createClient,
  custom,
  decodeAbiParameters,
  decodeFunctionData,
  defineChain,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  numberToHex,
  padHex,
  parseErc6492Signature,
  sha256,
  size,
  sliceHex,
  stringToHex,
  hexToBytes as viemHexToBytes,
} from 'viem'
import { entryPoint08Address, getUserOperationHash } from 'viem/account-abstraction'
import { hashMessage as hashMessage7739, hashTypedData as hashTypedData7739 } from 'viem/experimental/erc7739'
import { describe, expect, test } from 'vitest'
import {
  accountFactoryAbi,
  decodeCalls,
  decodeWebAuthnSignature,
  dummySignature,
  encodeCalls,
  encodeWebAuthnSignature,
  estimateUserOperationFees,
  modeBatch,
  modeSingle,
  nonceKey,
  toSsoAccount,
} from './entry/account.js'
import { createTestPasskey } from './testing/index.js'
import { base64UrlToBytes, bytesToHex, hexToBytes, InvalidWebAuthnDataError, P256_N } from './WebAuthn.js'

const factory = getAddress('0xfac0000000000000000000000000000000000001')
const validator = getAddress('0xa1d0000000000000000000000000000000000002')
const accountAddress = getAddress('0xacc0000000000000000000000000000000000003')
const chain = defineChain({
  id: 31337,
  name: 'Devnet',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1:8545'] } },
})

/** `authenticatorData` with another flags byte. */
function withFlags(authenticatorData: Hex, flags: number): Hex {
  return concatHex([
    sliceHex(authenticatorData, 0, 32),
    numberToHex(flags, { size: 1 }),
    sliceHex(authenticatorData, 33),
  ])
}

// What the validator does: rebuild clientDataJSON from the challenge and the suffix, then verify P-256.
function verifyAssertion(publicKey: { x: Hex; y: Hex }, challenge: Hex, signature: Hex) {
  const decoded = decodeWebAuthnSignature(signature, challenge)
  const clientDataJSON = decoded.clientDataJSON as string
  const client = JSON.parse(clientDataJSON)
  expect(bytesToHex(base64UrlToBytes(client.challenge))).toBe(challenge)
  expect(client.type).toBe('webauthn.get')
  const message = new Uint8Array([
    ...hexToBytes(decoded.authenticatorData),
    ...viemHexToBytes(sha256(new TextEncoder().encode(clientDataJSON))),
  ])
  const rs = hexToBytes(`0x${decoded.r.slice(2)}${decoded.s.slice(2)}`)
  const key = hexToBytes(`0x04${publicKey.x.slice(2)}${publicKey.y.slice(2)}`)
  return p256.verify(rs, message, key, { prehash: true, lowS: true })
}

function fakeChain(options: { deployed: boolean }) {
  const calls: { method: string; params: unknown }[] = []
  const client = createClient({
    chain,
    transport: custom({
      async request({ method, params }) {
        calls.push({ method, params })
        if (method === 'eth_chainId') return '0x7a69'
        if (method === 'eth_getCode') return options.deployed ? '0x6000' : '0x'
        if (method === 'eth_call') {
          const [{ to, data }] = params as [{ to: Hex; data: Hex }]
          if (to.toLowerCase() === factory.toLowerCase())
            return encodeAbiParameters([{ type: 'address' }], [accountAddress])
          if (to.toLowerCase() === entryPoint08Address.toLowerCase()) {
            // getNonce(address, uint192): echo the key in the top 192 bits, sequence 7
            const [, key] = decodeAbiParameters([{ type: 'address' }, { type: 'uint192' }], sliceHex(data, 4))
            return encodeAbiParameters([{ type: 'uint256' }], [(key << 64n) | 7n])
          }
        }
        throw new Error(`unexpected ${method}`)
      },
    }),
  })
  return { client, calls }
}

describe('SsoAccount', () => {
  test('behavior: encodeCalls uses ERC-7579 single and batch modes and round-trips', () => {
    const one = [{ to: factory, value: 5n, data: '0xabcdef' as Hex }]
    const single = encodeCalls(one)
    // executePacked_ezig(): selector ‖ mode ‖ target ‖ value ‖ data, no ABI words.
    expect(single).toBe(
      concatHex(['0x00000017', modeSingle, factory, numberToHex(5n, { size: 32 }), '0xabcdef']),
    )
    expect(decodeCalls(single)).toEqual([{ to: factory, value: 5n, data: '0xabcdef' }])
    // The ABI-encoded execute(bytes32,bytes) decodes the same (calls made by other tools).
    const standard = encodeFunctionData({
      abi: ssoAccountAbi,
      functionName: 'execute',
      args: [modeSingle, sliceHex(single, 36)],
    })
    expect(decodeCalls(standard)).toEqual(decodeCalls(single))
    // What the account would refuse is not shown as calls: a short single call, an unknown exec type.
    expect(() => decodeCalls(concatHex(['0x00000017', modeSingle, factory]))).toThrow(/at least 52 bytes/)
    const unknownExec = concatHex([
      '0x00000017',
      padHex('0x00ff', { dir: 'right', size: 32 }),
      sliceHex(single, 36),
    ])
    expect(() => decodeCalls(unknownExec)).toThrow(/exec type 0xff/)
    const many = [
      { to: factory, value: 1n, data: '0x01' as Hex },
      { to: validator, value: 0n, data: '0x' as Hex },
    ]
    const batch = encodeCalls(many)
    expect(sliceHex(batch, 4, 36)).toBe(modeBatch)
    expect(decodeCalls(batch)).toEqual(many)
    expect(() => encodeCalls([])).toThrow(/at least one call/)
  })

  test('behavior: the nonce key carries the validator in its top 160 bits', () => {
    const key = nonceKey(validator)
    expect(key >> 32n).toBe(BigInt(validator))
    expect(key & 0xffffffffn).toBe(0n)
    expect(nonceKey(validator, 3n) & 0xffffffffn).toBe(3n)
    // the full 256-bit nonce = key << 64 | seq: top 20 bytes are the validator
    const nonce = (key << 64n) | 9n
    expect(`0x${nonce.toString(16).padStart(64, '0').slice(0, 40)}`).toBe(validator)
  })

  test('behavior: the WebAuthn signature encoder gives low-s r/s, the key, the origin and the suffix', async () => {
    const passkey = createTestPasskey()
    const challenge = `0x${'11'.repeat(32)}` as Hex
    for (let i = 0; i < 8; i++) {
      const assertion = await passkey.sign(challenge)
      const encoded = encodeWebAuthnSignature({ credential: passkey.credential, assertion, challenge })
      const decoded = decodeWebAuthnSignature(encoded, challenge)
      expect(decoded.credentialKey).toBe(sliceHex(keccak256(base64UrlToBytes(passkey.credential.id)), 0, 4))
      expect(decoded.x).toBe(passkey.credential.publicKey.x)
      expect(decoded.y).toBe(passkey.credential.publicKey.y)
      expect(decoded.members).toContainEqual({
        kind: 'origin',
        origin: passkey.credential.origin,
        escaped: false,
      })
      expect(decoded.clientDataJSON).toBe(assertion.clientDataJSON)
      // packed, short form: the 4-byte credential key, four words, the format byte (short, crossOrigin, http,
      // rpId "localhost" = the host before the port, flags 0x05, a one-byte signCount), the count, the rpId length,
      // the origin without "http://"
      const host = passkey.credential.origin.slice('http://'.length)
      expect(decoded.form).toBe('short')
      expect(sliceHex(encoded, 0x84)).toBe(
        concatHex(['0xe9', numberToHex(i + 1, { size: 1 }), '0x09', stringToHex(host)]),
      )
      expect(decoded.authenticatorData).toBe(assertion.authenticatorData)
      expect(BigInt(decoded.s) <= P256_N / 2n).toBe(true)
      expect(verifyAssertion(passkey.credential.publicKey, challenge, encoded)).toBe(true)
    }
  })

  test('behavior: the short form goes whenever the validator can rebuild the assertion, the general form otherwise', async () => {
    const challenge = `0x${'11'.repeat(32)}` as Hex
    // rpId a suffix of the host: its range in the origin (start and length)
    const parent = createTestPasskey({ origin: 'https://auth.example.com:8443', rpId: 'example.com' })
    const assertion = await parent.sign(challenge)
    const encoded = encodeWebAuthnSignature({ credential: parent.credential, assertion, challenge })
    const decoded = decodeWebAuthnSignature(encoded, challenge)
    expect(sliceHex(encoded, 0x84, 0x88)).toBe('0xd1010d0b') // https, rpId at 13 for 11 bytes, count 1
    expect(decoded.authenticatorData).toBe(assertion.authenticatorData)
    expect(verifyAssertion(parent.credential.publicKey, challenge, encoded)).toBe(true)
    // a synced passkey (BE BS, no counter) of the host itself: the format byte and the host, nothing else
    const synced = createTestPasskey({ origin: 'https://example.com', rpId: 'example.com', flags: 0x1d })
    const syncedAssertion = await synced.sign(challenge)
    const zeroCount = {
      ...syncedAssertion,
      authenticatorData: concatHex([sliceHex(syncedAssertion.authenticatorData, 0, 33), '0x00000000']),
    }
    const short = encodeWebAuthnSignature({ credential: synced.credential, assertion: zeroCount })
    expect(sliceHex(short, 0x84)).toBe(concatHex(['0xc4', stringToHex('example.com')]))
    expect(size(short)).toBe(0x84 + 1 + 11)
    expect(decodeWebAuthnSignature(short, challenge).authenticatorData).toBe(zeroCount.authenticatorData)
    // an rpId that is no part of the origin, or authenticatorData with extensions: the general form, sent as they are
    const foreign = createTestPasskey({ origin: 'https://auth.example.com', rpId: 'other.org' })
    const foreignAssertion = await foreign.sign(challenge)
    const full = decodeWebAuthnSignature(
      encodeWebAuthnSignature({ credential: foreign.credential, assertion: foreignAssertion }),
    )
    expect(full.form).toBe('general')
    expect(full.sentAuthenticatorData).toBe(foreignAssertion.authenticatorData)
    const withExtensions = {
      ...assertion,
      authenticatorData: concatHex([assertion.authenticatorData, '0xa0']),
    }
    const extended = decodeWebAuthnSignature(
      encodeWebAuthnSignature({ credential: parent.credential, assertion: withExtensions }),
    )
    expect(size(extended.sentAuthenticatorData ?? '0x')).toBe(38)
    // other flags, or another clientDataJSON shape (Chrome's extra member): the general form with the compact
    // authenticatorData (rpId "example.com" at 13)
    const extra = {
      ...assertion,
      clientDataJSON: assertion.clientDataJSON.replace(/}$/, ',"other_keys_can_be_added_here":"x"}'),
    }
    for (const other of [
      extra,
      { ...assertion, authenticatorData: withFlags(assertion.authenticatorData, 0x45) },
    ]) {
      const general = decodeWebAuthnSignature(
        encodeWebAuthnSignature({ credential: parent.credential, assertion: other }),
      )
      expect(general.form).toBe('general')
      expect(sliceHex(general.sentAuthenticatorData ?? '0x', 0, 2)).toBe('0x0d0b')
    }
  })

  test('error: a compact authenticatorData outside the origin or of another length is refused', async () => {
    const passkey = createTestPasskey()
    const challenge = `0x${'11'.repeat(32)}` as Hex
    const assertion = await passkey.sign(challenge)
    const encoded = encodeWebAuthnSignature({
      credential: passkey.credential,
      assertion: {
        ...assertion,
        clientDataJSON: assertion.clientDataJSON.replace(/}$/, ',"other_keys_can_be_added_here":"x"}'),
      },
    })
    const outside = concatHex([sliceHex(encoded, 0, 0x86), '0x1409', sliceHex(encoded, 0x88)])
    expect(() => decodeWebAuthnSignature(outside, challenge)).toThrow(
      expect.objectContaining({
        name: 'InvalidWebAuthnDataError',
        message: expect.stringMatching(/names no part of the origin/),
      }),
    )
    const fiveBytes = concatHex([sliceHex(encoded, 0, 0x84), '0x0005', sliceHex(encoded, 0x86)])
    expect(() => decodeWebAuthnSignature(fiveBytes, challenge)).toThrow(
      expect.objectContaining({
        name: 'InvalidWebAuthnDataError',
        message: expect.stringMatching(/3- or 7-byte compact form/),
      }),
    )
    // the short form: an rpId length past the host, the reserved rpId form 3
    const short = encodeWebAuthnSignature({ credential: passkey.credential, assertion })
    for (const [tail, message] of [
      [
        concatHex(['0xe9', '0x01', '0x7f', stringToHex('localhost:3002')]),
        /rpId names no part of the origin/,
      ],
      [concatHex(['0xf9', '0x01', stringToHex('localhost:3002')]), /form 3/],
    ] as const)
      expect(() => decodeWebAuthnSignature(concatHex([sliceHex(short, 0, 0x84), tail]), challenge)).toThrow(
        expect.objectContaining({
          name: 'InvalidWebAuthnDataError',
          message: expect.stringMatching(message),
        }),
      )
  })

  test('error: assertions of another challenge or with an unusual clientDataJSON are refused', async () => {
    const passkey = createTestPasskey()
    const assertion = await passkey.sign(`0x${'11'.repeat(32)}`)
    expect(() =>
      encodeWebAuthnSignature({
        credential: passkey.credential,
        assertion,
        challenge: `0x${'12'.repeat(32)}`,
      }),
    ).toThrow(InvalidWebAuthnDataError)
    for (const [clientDataJSON, message] of [
      ['{"type":"webauthn.get","challenge":"abc","crossOrigin":false}', /no "origin" member/],
      ['{"type":"webauthn.get","challenge":"abc', /unterminated string/],
      [
        '{"type":"webauthn.get","challenge":"abc","origin":"http://x","crossOrigin":true}',
        /crossOrigin: true/,
      ],
      ['{"type":"webauthn.get","challenge":"abc","origin":"http://x","topOrigin":"http://y"}', /topOrigin/],
      ['{"type":"webauthn.create","challenge":"abc","origin":"http://x"}', /not "webauthn.get"/],
      ['{"type": "webauthn.get","challenge":"abc","origin":"http://x"}', /is not a string/],
    ] as const)
      expect(() =>
        encodeWebAuthnSignature({
          credential: passkey.credential,
          assertion: { ...assertion, clientDataJSON },
        }),
      ).toThrow(
        expect.objectContaining({
          name: 'InvalidWebAuthnDataError',
          message: expect.stringMatching(message),
        }),
      )
  })

  test('behavior: the dummy signature has the shape of a real one and exercises the P-256 path', async () => {
    const passkey = createTestPasskey({ origin: 'http://localhost:3002' })
    const dummySig = dummySignature(passkey.credential)
    const dummy = decodeWebAuthnSignature(dummySig)
    const realSig = encodeWebAuthnSignature({
      credential: passkey.credential,
      assertion: await passkey.sign(`0x${'22'.repeat(32)}`),
    })
    const real = decodeWebAuthnSignature(realSig)
    expect(dummy.credentialKey).toBe(real.credentialKey)
    expect([dummy.x, dummy.y]).toEqual([real.x, real.y])
    expect(dummy.authenticatorData.length).toBe(real.authenticatorData.length)
    expect(dummy.authenticatorData.slice(0, 66)).toBe(real.authenticatorData.slice(0, 66)) // rpIdHash
    expect(hexToBytes(dummy.authenticatorData)[32]).toBe(0x05) // UP | UV, so flag checks pass
    expect(dummy.members.slice(0, real.members.length)).toEqual(
      real.members.map((m) => (m.kind === 'challenge' ? { ...m, challenge: '' } : m)),
    ) // same origin
    expect(dummySig.length).toBeGreaterThanOrEqual(realSig.length + 100 * 2) // never under-estimates calldata
    const r = BigInt(dummy.r)
    const s = BigInt(dummy.s)
    expect(r > 0n && r < P256_N && s > 0n && s <= P256_N / 2n).toBe(true) // reaches the precompile
    expect(verifyAssertion(passkey.credential.publicKey, `0x${'00'.repeat(32)}`, dummySig)).toBe(false)
  })

  test('behavior: toSsoAccount reads the factory address, uses the validator nonce key and signs userOps', async () => {
    const passkey = createTestPasskey()
    const { client, calls } = fakeChain({ deployed: false })
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory: factory, webAuthnValidator: validator },
    })
    expect(account.address).toBe(accountAddress)
    // The counterfactual address comes from the factory's getAddress for this very passkey.
    const [factoryCall] = calls
      .filter((c) => c.method === 'eth_call')
      .map((c) => (c.params as [{ to: Hex; data: Hex }])[0])
    expect(factoryCall?.to.toLowerCase()).toBe(factory.toLowerCase())
    const query = decodeFunctionData({ abi: accountFactoryAbi, data: factoryCall!.data })
    expect(query.functionName).toBe('getAddress')
    expect(query.args).toEqual([
      bytesToHex(base64UrlToBytes(passkey.credential.id)),
      passkey.credential.publicKey.x,
      passkey.credential.publicKey.y,
      'localhost',
      'http://localhost:3002',
    ])
    const { factory: f, factoryData } = await account.getFactoryArgs()
    expect(f).toBe(factory)
    expect(factoryData?.length).toBeGreaterThan(10)
    const nonce = await account.getNonce()
    expect(nonce >> 64n).toBe(nonceKey(validator))
    const userOperation = {
      sender: accountAddress,
      nonce,
      callData: encodeCalls([{ to: factory, value: 1n }]),
      callGasLimit: 100000n,
      verificationGasLimit: 500000n,
      preVerificationGas: 50000n,
      maxFeePerGas: 1n,
      maxPriorityFeePerGas: 1n,
      signature: '0x' as Hex,
    } as const
    const signature = await account.signUserOperation(userOperation)
    const hash = getUserOperationHash({
      chainId: 31337,
      entryPointAddress: entryPoint08Address,
      entryPointVersion: '0.8',
      userOperation,
    })
    expect(verifyAssertion(passkey.credential.publicKey, hash, signature)).toBe(true)
    expect(await account.getStubSignature()).toBe(dummySignature(passkey.credential))
  })

  test('behavior: signMessage / signTypedData sign the ERC-7739 digest, prefix the validator, wrap ERC-6492 when undeployed', async () => {
    const passkey = createTestPasskey()
    const { client } = fakeChain({ deployed: false })
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory: factory, webAuthnValidator: validator },
    })
    const verifierDomain = {
      name: 'SsoAccount',
      version: '1',
      chainId: 31337,
      verifyingContract: accountAddress,
      salt: `0x${'00'.repeat(32)}`,
    } as const

    const wrapped = await account.signMessage({ message: 'hello' })
    const parsed = parseErc6492Signature(wrapped)
    expect(getAddress(parsed.address!)).toBe(factory)
    expect(getAddress(sliceHex(parsed.signature, 0, 20))).toBe(validator)
    const inner = sliceHex(parsed.signature, 20)
    expect(
      verifyAssertion(
        passkey.credential.publicKey,
        hashMessage7739({ message: 'hello', verifierDomain }),
        inner,
      ),
    ).toBe(true)

    const typedData = {
      domain: { name: 'Mail', version: '1', chainId: 31337, verifyingContract: factory },
      types: { Mail: [{ name: 'contents', type: 'string' }] },
      primaryType: 'Mail',
      message: { contents: 'hi' },
    } as const
    const typedSignature = parseErc6492Signature(await account.signTypedData(typedData)).signature
    expect(getAddress(sliceHex(typedSignature, 0, 20))).toBe(validator)
    const innerLength = size7739Inner(typedSignature)
    const typedInner = sliceHex(typedSignature, 20, innerLength)
    expect(
      verifyAssertion(
        passkey.credential.publicKey,
        hashTypedData7739({ ...typedData, verifierDomain }),
        typedInner,
      ),
    ).toBe(true)

    // deployed: no ERC-6492 wrapper
    const deployed = await toSsoAccount({
      client: fakeChain({ deployed: true }).client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { accountFactory: factory, webAuthnValidator: validator },
    })
    const plain = await deployed.signMessage({ message: 'hello' })
    expect(getAddress(sliceHex(plain, 0, 20))).toBe(validator)
  })
})

// ERC-7739 typed data signature: inner ‖ appDomainSeparator(32) ‖ contentsHash(32) ‖ contentsDescr ‖ uint16(len)
function size7739Inner(signature: Hex): number {
  const bytes = hexToBytes(signature)
  const descrLength = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!
  return bytes.length - 2 - descrLength - 64
}

describe('estimateUserOperationFees', () => {
  const chain = defineChain({
    id: 31337,
    name: 'devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: ['http://127.0.0.1:8545'] } },
  })

  test('behavior: takes the bundler price when the bundler has pimlico_getUserOperationGasPrice', async () => {
    const bundlerClient = createClient({
      chain,
      transport: custom({
        async request({ method }) {
          if (method !== 'pimlico_getUserOperationGasPrice') throw new Error(`unexpected ${method}`)
          const price = { maxFeePerGas: '0x77359400', maxPriorityFeePerGas: '0x3b9aca00' }
          return { slow: price, standard: price, fast: price }
        },
      }),
    })
    await expect(estimateUserOperationFees({ bundlerClient })).resolves.toEqual({
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    })
  })

  test('behavior: falls back to the chain estimate when the bundler lacks the method', async () => {
    const chainClient = createClient({
      chain,
      transport: custom({
        async request({ method }) {
          if (method === 'eth_getBlockByNumber') return { baseFeePerGas: '0x64', number: '0x1' }
          if (method === 'eth_maxPriorityFeePerGas') return '0xa'
          throw new Error(`unexpected ${method}`)
        },
      }),
    })
    const bundlerClient = Object.assign(
      createClient({
        chain,
        transport: custom({
          async request() {
            throw new Error('Method not found')
          },
        }),
      }),
      { client: chainClient },
    )
    const fees = await estimateUserOperationFees({ bundlerClient })
    expect(fees.maxPriorityFeePerGas).toBe(10n)
    // viem's default: base fee × 1.2 + tip.
    expect(fees.maxFeePerGas).toBe(130n)
  })
})
