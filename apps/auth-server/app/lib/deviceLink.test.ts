import { encodeWebAuthnSignature, registrationChallenge } from '@sso/client/account'
import { createTestPasskey } from '@sso/client/testing'
import { bytesToBase64Url } from '@sso/client/webauthn'
import { getAddress } from 'viem'
import { describe, expect, test } from 'vitest'
import {
  addDeviceUrl,
  codePrefix,
  DeviceLinkError,
  type DevicePasskey,
  devicePasskeyUrl,
  encodeDevicePasskey,
  isP256Point,
  parseAddDeviceRequest,
  parseDevicePasskey,
} from './deviceLink'

const main = 'http://localhost:3002'
const backup = 'http://backup.localhost:3003'
const origins = [main, backup]
const account = getAddress('0x1111111111111111111111111111111111111111')
const other = getAddress('0x2222222222222222222222222222222222222222')
const validator = getAddress('0x3333333333333333333333333333333333333333')

async function devicePasskey(origin = backup, rpId = new URL(origin).hostname): Promise<DevicePasskey> {
  const passkey = createTestPasskey({ origin, rpId })
  const challenge = registrationChallenge({
    webAuthnValidator: validator,
    account,
    credentialId: passkey.credential.id,
  })
  const proof = encodeWebAuthnSignature({
    credential: passkey.credential,
    assertion: await passkey.sign(challenge),
  })
  return {
    account,
    credentialId: passkey.credential.id,
    x: passkey.credential.publicKey.x,
    y: passkey.credential.publicKey.y,
    rpId,
    origin,
    proof,
    name: 'iCloud Keychain',
  }
}

/** A code whose JSON is `object` (to build malformed payloads). */
function codeOfJson(object: unknown): string {
  return codePrefix + bytesToBase64Url(new TextEncoder().encode(JSON.stringify(object)))
}

function refusal(run: () => unknown): DeviceLinkError {
  try {
    run()
  } catch (error) {
    if (error instanceof DeviceLinkError) return error
    throw error
  }
  throw new Error('expected a DeviceLinkError, nothing was thrown')
}

describe('the request link (/add-device)', () => {
  test('behavior: the link round-trips through the route query', () => {
    const url = new URL(
      addDeviceUrl({ page: `${backup}/dashboard`, account, chainId: 31337, from: `${main}/x` }),
    )
    expect(url.origin).toBe(backup)
    expect(url.pathname).toBe('/add-device')
    const query = Object.fromEntries(url.searchParams)
    expect(parseAddDeviceRequest(query, { chainIds: [31337], origins })).toEqual({
      account,
      chainId: 31337,
      from: main,
    })
  })

  test('error: a missing, repeated or bad field is named', () => {
    const options = { chainIds: [31337], origins }
    const good = { account, chain: '31337', from: main }
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...good, account: undefined }, 'account', /no account/],
      [{ ...good, account: [account, other] }, 'account', /several/],
      [{ ...good, account: '0x1234' }, 'account', /not an address/],
      [{ ...good, chain: '1' }, 'chain', /does not serve/],
      [{ ...good, chain: '31337.0' }, 'chain', /does not serve/],
      [{ ...good, chain: null }, 'chain', /no chain/],
      [{ ...good, from: 'https://evil.example' }, 'from', /not a sign-in page/],
      [{ ...good, from: 'javascript:alert(1)' }, 'from', /not a web origin/],
    ]
    for (const [query, field, message] of cases) {
      const error = refusal(() => parseAddDeviceRequest(query, options))
      expect(error.field).toBe(field)
      expect(error.message).toMatch(message)
    }
  })
})

describe('the passkey code from the other device', () => {
  test('behavior: the code, and the answer link that carries it, parse back to the passkey', async () => {
    const passkey = await devicePasskey()
    expect(parseDevicePasskey(encodeDevicePasskey(passkey), { account, origins })).toEqual(passkey)
    const link = devicePasskeyUrl(main, passkey)
    expect(link.startsWith(`${main}/dashboard#add-passkey=${codePrefix}`)).toBe(true)
    expect(parseDevicePasskey(`  ${link}\n`, { account, origins })).toEqual(passkey)
  })

  test('error: empty, foreign, damaged and oversized codes', () => {
    const cases: [string, RegExp][] = [
      ['  ', /Paste the code/],
      ['hello', /not a passkey code of this service/],
      [`${codePrefix}%%%`, /damaged/],
      [`${codePrefix}${bytesToBase64Url(new TextEncoder().encode('[1]'))}`, /damaged/],
      [`${codePrefix}${'A'.repeat(5000)}`, /too long/],
    ]
    for (const [text, message] of cases) {
      const error = refusal(() => parseDevicePasskey(text, { account, origins }))
      expect(error.field).toBe('code')
      expect(error.message).toMatch(message)
    }
  })

  test('error: a passkey for another account names both accounts', async () => {
    const passkey = await devicePasskey()
    const error = refusal(() => parseDevicePasskey(encodeDevicePasskey(passkey), { account: other, origins }))
    expect(error.field).toBe('account')
    expect(error.message).toBe(`This passkey was made for account ${account}, not for this one (${other}).`)
  })

  test('error: a passkey of another site, or whose rpId is not its page, is refused', async () => {
    const foreign = await devicePasskey('https://evil.example')
    const error = refusal(() => parseDevicePasskey(encodeDevicePasskey(foreign), { account, origins }))
    expect(error.field).toBe('origin')
    expect(error.message).toMatch(/"https:\/\/evil.example", which is not a sign-in page of this service/)

    const wrongRp = await devicePasskey(backup, 'localhost')
    const rpError = refusal(() => parseDevicePasskey(encodeDevicePasskey(wrongRp), { account, origins }))
    expect(rpError.field).toBe('rpId')
    expect(rpError.message).toBe(`The passkey's relying party "localhost" is not backup.localhost.`)
  })

  test('error: malformed fields are named and nothing is returned', async () => {
    const passkey = await devicePasskey()
    const another = await devicePasskey()
    const base = JSON.parse(
      new TextDecoder().decode(
        Buffer.from(encodeDevicePasskey(passkey).slice(codePrefix.length), 'base64url'),
      ),
    ) as Record<string, unknown>
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...base, account: 'nope' }, 'account', /no valid account/],
      [{ ...base, credentialId: 'a+b/' }, 'credentialId', /not base64url/],
      [{ ...base, credentialId: 'AAAA' }, 'credentialId', /16 to 1023 bytes, this one 3/],
      [{ ...base, x: '0x12' }, 'x', /32 bytes of hex/],
      [{ ...base, y: 42 }, 'y', /no y/],
      [{ ...base, x: another.x }, 'x', /not a point of the P-256 curve/],
      [{ ...base, proof: 'zz' }, 'proof', /not a hex signature/],
      [{ ...base, proof: '0x1234' }, 'proof', /malformed/],
      [{ ...base, proof: another.proof }, 'proof', /signed by another passkey/],
      [{ ...base, name: 'x'.repeat(41) }, 'name', /short printable/],
      [{ ...base, name: 7 }, 'name', /short printable/],
    ]
    for (const [object, field, message] of cases) {
      const error = refusal(() => parseDevicePasskey(codeOfJson(object), { account, origins }))
      expect([error.field, error.message]).toEqual([field, expect.stringMatching(message)])
    }
  })

  test('behavior: isP256Point accepts curve points only', async () => {
    const passkey = await devicePasskey()
    expect(isP256Point(BigInt(passkey.x), BigInt(passkey.y))).toBe(true)
    expect(isP256Point(BigInt(passkey.x), BigInt(passkey.y) + 1n)).toBe(false)
    expect(isP256Point(0n, 0n)).toBe(false)
  })
})
