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
