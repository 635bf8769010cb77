import { describe, expect, test } from 'vitest'
import {
  decodeClientDataMembers,
  encodeClientDataMembers,
  parseClientData,
  serializeClientData,
} from './ClientData.js'
import { createTestPasskey } from './testing/index.js'
import { InvalidWebAuthnDataError, recoverP256PublicKeys } from './WebAuthn.js'
import { encodeWebAuthnSignature } from './WebAuthnSignature.js'

const challenge = 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8w'

describe('ClientData', () => {
  test('behavior: browser shapes parse, encode, decode and rebuild to the same text', () => {
    for (const json of [
      `{"type":"webauthn.get","challenge":"${challenge}","origin":"https://auth.example","crossOrigin":false}`,
      `{"challenge":"${challenge}","origin":"https://auth.example","type":"webauthn.get"}`,
      `{"type":"webauthn.get","challenge":"${challenge}","origin":"https:\\/\\/auth.example","androidPackageName":"com.android.chrome"}`,
      `{"type":"webauthn.get","challenge":"${challenge}","origin":"https://auth.example","crossOrigin":false,"other_keys_can_be_added_here":"do not compare clientDataJSON against a template. See https://goo.gl/yabPex"}`,
    ]) {
      const members = parseClientData(json)
      expect(serializeClientData(members)).toBe(json)
      expect(decodeClientDataMembers(encodeClientDataMembers(members), challenge)).toEqual(members)
    }
    expect(
      parseClientData(`{"type":"webauthn.get","challenge":"${challenge}","origin":"https:\\/\\/a.b"}`)[2],
    ).toEqual({ kind: 'origin', origin: 'https://a.b', escaped: true })
  })

  test('behavior: the member list is the tag bytes of docs/webauthn.md', () => {
    expect(
      encodeClientDataMembers([
        { kind: 'type' },
        { kind: 'challenge', challenge },
        { kind: 'origin', origin: 'http://a', escaped: false },
        { kind: 'crossOrigin' },
        { kind: 'string', key: 'k', value: 'v' },
      ]),
    ).toBe('0x01020308687474703a2f2f610506010' + '16b76')
  })

  test('error: cross-origin, other types, duplicates, escapes and reserved keys are refused with the reason', () => {
    const cases: [string, RegExp][] = [
      [
        `{"type":"webauthn.get","challenge":"${challenge}","origin":"https://a.b","crossOrigin":true}`,
        /cross-origin frame \(crossOrigin: true\)/,
      ],
      [
        `{"type":"webauthn.get","challenge":"${challenge}","origin":"https://a.b","topOrigin":"https://evil"}`,
        /cross-origin frame \(topOrigin\)/,
      ],
      [
        `{"type":"webauthn.create","challenge":"${challenge}","origin":"https://a.b"}`,
        /type is "webauthn.create"/,
      ],
      [
        `{"type":"webauthn.get","type":"webauthn.get","challenge":"${challenge}","origin":"https://a.b"}`,
        /"type" appears twice/,
      ],
      [
        `{"type":"webauthn.get","challenge":"${challenge}","origin":"https://a.b","x":"a\\"b"}`,
        /member "x" has escaped characters/,
      ],
      [
        `{"type":"webauthn.get","challenge":"${challenge}","origin":"https:\\//a.b"}`,
        /escapes some of its slashes but not all/,
      ],
      [
        `{"type":"webauthn.get","challenge":"${challenge}","origin":"https://a.b","n":1}`,
        /"n" is not a string/,
      ],
      [`{"type":"webauthn.get","origin":"https://a.b"}`, /no "challenge" member/],
      [`{"type":"webauthn.get","challenge":"${challenge}","origin":"https://a.b"} `, /text after the object/],
    ]
    for (const [json, message] of cases)
      expect(() => parseClientData(json)).toThrow(
        expect.objectContaining({
          name: 'InvalidWebAuthnDataError',
          message: expect.stringMatching(message),
        }),
      )
    expect(() => encodeClientDataMembers([{ kind: 'string', key: 'topOrigin', value: 'x' }])).toThrow(
      InvalidWebAuthnDataError,
    )
    expect(() => decodeClientDataMembers('0x0308')).toThrow(/Truncated clientData member list/)
  })

  test('behavior: public key recovery from one assertion yields the passkey among two candidates', async () => {
    const passkey = createTestPasskey()
    for (let i = 0; i < 4; i++) {
      const assertion = await passkey.sign(`0x${String(i).repeat(64)}`)
      const keys = recoverP256PublicKeys(assertion)
      expect(keys.length).toBeGreaterThanOrEqual(1)
      expect(keys.length).toBeLessThanOrEqual(2)
      expect(keys).toContainEqual(passkey.credential.publicKey)
      // the signature still encodes for the recovered key
      expect(encodeWebAuthnSignature({ credential: { ...passkey.credential }, assertion })).toMatch(/^0x/)
    }
  })
})
