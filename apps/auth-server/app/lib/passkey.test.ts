import { createTestPasskey } from '@sso/client/testing'
import { keccak256, stringToHex } from 'viem'
import { expect, test } from 'vitest'
import { verifyAssertion } from './passkey'

const origin = 'http://localhost:3002'
const rpId = 'localhost'
const challenge = keccak256(stringToHex('login'))

test('behavior: an assertion verifies against its public key', async () => {
  const passkey = createTestPasskey({ origin, rpId })
  const assertion = await passkey.sign(challenge)
  expect(
    await verifyAssertion({ assertion, publicKey: passkey.credential.publicKey, challenge, origin, rpId }),
  ).toBe(true)
})

test('error: another key, challenge, origin, rpId or missing UV does not verify', async () => {
  const passkey = createTestPasskey({ origin, rpId })
  const other = createTestPasskey({ origin, rpId })
  const assertion = await passkey.sign(challenge)
  const base = { assertion, publicKey: passkey.credential.publicKey, challenge, origin, rpId }
  expect(await verifyAssertion({ ...base, publicKey: other.credential.publicKey })).toBe(false)
  expect(await verifyAssertion({ ...base, challenge: keccak256(stringToHex('other')) })).toBe(false)
  expect(await verifyAssertion({ ...base, origin: 'http://evil.localhost:3002' })).toBe(false)
  expect(await verifyAssertion({ ...base, rpId: 'example.com' })).toBe(false)
  const noUv = createTestPasskey({ origin, rpId, flags: 0x01 })
  expect(
    await verifyAssertion({
      ...base,
      assertion: await noUv.sign(challenge),
      publicKey: noUv.credential.publicKey,
    }),
  ).toBe(false)
})

test('attack: a framed assertion (crossOrigin true, topOrigin) by the right key is refused, as on chain', async () => {
  const passkey = createTestPasskey({ origin, rpId })
  const b64 = (hex: string) => Buffer.from(hex.slice(2), 'hex').toString('base64url')
  const { x, y } = passkey.credential.publicKey
  const key = await crypto.subtle.importKey(
    'jwk',
    { kty: 'EC', crv: 'P-256', x: b64(x), y: b64(y), d: b64(passkey.privateKey) },
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  )
  const genuine = await passkey.sign(challenge)
  const signWith = async (clientDataJSON: string) => {
    const data = Buffer.concat([
      Buffer.from(genuine.authenticatorData.slice(2), 'hex'),
      Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(clientDataJSON))),
    ])
    const raw = Buffer.from(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data))
    // DER-encode r and s (what authenticators return).
    const int = (b: Buffer) => {
      const trimmed = b.subarray(b.findIndex((v) => v !== 0))
      const body = trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed
      return Buffer.concat([Buffer.from([0x02, body.length]), body])
    }
    const seq = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))])
    const signature = `0x${Buffer.concat([Buffer.from([0x30, seq.length]), seq]).toString('hex')}` as const
    return { ...genuine, clientDataJSON, signature }
  }
  const members = JSON.parse(genuine.clientDataJSON) as Record<string, unknown>
  const base = { publicKey: passkey.credential.publicKey, challenge, origin, rpId }
  // Control: the same signing path over the genuine text verifies.
  expect(await verifyAssertion({ ...base, assertion: await signWith(genuine.clientDataJSON) })).toBe(true)
  const framed = JSON.stringify({ ...members, crossOrigin: true, topOrigin: 'https://evil.example' })
  expect(await verifyAssertion({ ...base, assertion: await signWith(framed) })).toBe(false)
  const crossOrigin = JSON.stringify({ ...members, crossOrigin: true })
  expect(await verifyAssertion({ ...base, assertion: await signWith(crossOrigin) })).toBe(false)
  const created = JSON.stringify({ ...members, type: 'webauthn.create' })
  expect(await verifyAssertion({ ...base, assertion: await signWith(created) })).toBe(false)
})
