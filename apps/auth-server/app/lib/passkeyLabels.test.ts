import { expect, test } from 'vitest'
import { aaguidOf, checkName, displayName, PasskeyNameError } from './passkeyLabels'

function authenticatorData(aaguid: number[], flags = 0x45): Uint8Array {
  return new Uint8Array([...new Array(32).fill(7), flags, 0, 0, 0, 1, ...aaguid, 0, 16])
}

test('behavior: the AAGUID of registration data, and the authenticator name it gives', () => {
  // Google Password Manager's AAGUID.
  const gpm = [0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4]
  const aaguid = aaguidOf(authenticatorData(gpm))
  expect(aaguid).toBe('ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4')
  expect(displayName({ aaguid }, 2)).toBe('Google Password Manager')
  // No attested credential data (AT flag clear), or an all-zero AAGUID: unknown.
  expect(aaguidOf(authenticatorData(gpm, 0x05))).toBeUndefined()
  expect(aaguidOf(authenticatorData(new Array(16).fill(0)))).toBeUndefined()
})

test('behavior: the name shown is the user’s, else the authenticator’s, else the one sent, else Passkey N', () => {
  const unknown = { aaguid: '01020304-0506-0708-0102-030405060708' }
  expect(displayName({ ...unknown, name: 'Work laptop' }, 3)).toBe('Work laptop')
  expect(displayName(unknown, 3, '1Password')).toBe('1Password')
  expect(displayName(unknown, 3)).toBe('Passkey 3')
  expect(displayName(undefined, 1)).toBe('Passkey 1')
})

test('error: empty, too long or control-character names are refused; spaces are tidied', () => {
  expect(checkName('  Phone   (old) ')).toBe('Phone (old)')
  for (const [name, message] of [
    ['   ', 'A name can’t be empty.'],
    ['x'.repeat(41), 'A name is at most 40 characters.'],
    ['a\u0007b', 'A name can’t hold control characters.'],
  ] as const) {
    let error: unknown
    try {
      checkName(name)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PasskeyNameError)
    expect((error as Error).message).toBe(message)
  }
})
