/**
 * What this browser knows about passkeys that the chain does not: names the user gave them, which authenticator
 * made them (AAGUID), which were made here and when each was last used here. Kept in localStorage of this
 * sign-in page only: another device or the other sign-in page has its own.
 */
import { Errors } from '@sso/client/popup'

/** Authenticators by AAGUID (from their makers' published AAGUIDs); unknown ones get "Passkey N". */
const knownAuthenticators: Readonly<Record<string, string>> = {
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  'dd4ec289-e01d-41c9-bb89-70fa845d4bf2': 'iCloud Keychain (Managed)',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '531126d6-e717-415c-9320-3d9aa6981239': 'Dashlane',
  'b84e4048-15dc-4dd0-8640-f4f60813c8af': 'NordPass',
  '0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6': 'Keeper',
  '53414d53-554e-4700-0000-000000000000': 'Samsung Pass',
}

/** The AAGUID in registration authenticatorData (bytes 37..53), as a lowercase UUID; undefined if absent or zero. */
export function aaguidOf(authenticatorData: Uint8Array): string | undefined {
  if (authenticatorData.length < 53 || ((authenticatorData[32] ?? 0) & 0x40) === 0) return undefined
  const hex = [...authenticatorData.subarray(37, 53)].map((b) => b.toString(16).padStart(2, '0')).join('')
  if (/^0+$/.test(hex)) return undefined
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The authenticator's name for an AAGUID, when it is a known one. */
export function authenticatorName(aaguid: string | undefined): string | undefined {
  return aaguid ? knownAuthenticators[aaguid.toLowerCase()] : undefined
}

/** What this browser keeps about one passkey (by base64url credential id). */
export type PasskeyLabel = {
  name?: string | undefined
  aaguid?: string | undefined
  /** Made in this browser (ms since epoch). */
  createdHere?: number | undefined
  /** Last signed with in this browser (ms since epoch). */
  lastUsed?: number | undefined
}

const storageKey = 'sso.auth.passkeyLabels'
const maxNameLength = 40

/** Thrown for a name that can't be kept (empty or too long). */
export class PasskeyNameError extends Errors.BaseError {
  override name = 'PasskeyNameError'
}

function storage(): Storage | undefined {
  return typeof localStorage === 'undefined' ? undefined : localStorage
}

/** Every label of this browser. */
export function readLabels(): Record<string, PasskeyLabel> {
  try {
    const parsed = JSON.parse(storage()?.getItem(storageKey) ?? '{}') as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {}
    return parsed as Record<string, PasskeyLabel>
  } catch {
    return {}
  }
}

function update(id: string, change: (label: PasskeyLabel) => PasskeyLabel) {
  const labels = readLabels()
  labels[id] = change(labels[id] ?? {})
  storage()?.setItem(storageKey, JSON.stringify(labels))
}

/** A name as kept: trimmed, 1 to {@link maxNameLength} characters, no control characters. */
export function checkName(name: string): string {
  const trimmed = name.replace(/\s+/g, ' ').trim()
  if (trimmed === '') throw new PasskeyNameError('A name can’t be empty.')
  if (trimmed.length > maxNameLength)
    throw new PasskeyNameError(`A name is at most ${maxNameLength} characters.`)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed))
    throw new PasskeyNameError('A name can’t hold control characters.')
  return trimmed
}

/** Renames a passkey in this browser. */
export function setName(id: string, name: string): void {
  const checked = checkName(name)
  update(id, (label) => ({ ...label, name: checked }))
}

/** Records a passkey made in this browser (and its authenticator, when known). */
export function noteCreated(id: string, aaguid: string | undefined, name?: string | undefined): void {
  update(id, (label) => ({ ...label, aaguid, createdHere: Date.now(), ...(name ? { name } : {}) }))
}

/** Records that a passkey just signed in this browser. */
export function noteUsed(id: string): void {
  update(id, (label) => ({ ...label, lastUsed: Date.now() }))
}

/**
 * The name to show: the user's, else the authenticator's (AAGUID), else the one the other device sent, else
 * "Passkey N" (N = its position on the account, from 1).
 */
export function displayName(label: PasskeyLabel | undefined, position: number, sent?: string): string {
  return label?.name ?? authenticatorName(label?.aaguid) ?? sent ?? `Passkey ${position}`
}
