/**
 * Adding a passkey made on another device, with no backend (docs/webauthn.md, "Passkeys from another device"):
 *
 * 1. This device shows a link (and its QR code) to `<sign-in page>/add-device?account=…&chain=…&from=…`.
 * 2. The other device opens it, creates a passkey there and signs the account's registration challenge with it
 *    (the proof of possession), then shows a link back to `<from>/dashboard#add-passkey=<code>`, its QR code and
 *    the code itself to paste.
 * 3. This device parses the code ({@link parseDevicePasskey}), checks the proof on chain and, once the user
 *    approved with an existing passkey, sends `addPasskey` in a user operation.
 *
 * Everything received is checked here before it is shown; a bad link or code changes nothing.
 */

import { credentialKey, decodeWebAuthnSignature } from '@sso/client/account'
import { Errors } from '@sso/client/popup'
import { base64UrlToBytes, bytesToBase64Url } from '@sso/client/webauthn'
import { type Address, getAddress, type Hex, isAddress, isAddressEqual, isHex, size } from 'viem'

/** Thrown when a device link or code is malformed or not for this account; `field` names the part at fault. */
export class DeviceLinkError extends Errors.BaseError {
  override name = 'DeviceLinkError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

/** What the other device needs to make a passkey for the account (the query of `/add-device`). */
export type AddDeviceRequest = {
  account: Address
  chainId: number
  /** Origin of the sign-in page that approves (where the answer link leads). */
  from: string
}

/** The passkey made on the other device, with its proof of possession: what goes back to the approving device. */
export type DevicePasskey = {
  account: Address
  /** base64url credential id. */
  credentialId: string
  x: Hex
  y: Hex
  rpId: string
  origin: string
  /** WebAuthn signature (validator encoding) of `registrationChallenge(account, credentialId)` by this passkey. */
  proof: Hex
  /** A default name chosen where the passkey was made (its authenticator), if any. */
  name?: string | undefined
}

/** Prefix of the code, so a pasted text is recognised (and a future format can be told apart). */
export const codePrefix = 'sso-passkey-1.'
/** The fragment parameter of the answer link (a fragment never reaches a server). */
export const fragmentKey = 'add-passkey'

const maxCodeLength = 4_000

/** The origin of `url` (`scheme://host[:port]`), or a {@link DeviceLinkError} for `field`. */
function originOf(field: string, url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('not http(s)')
    return parsed.origin
  } catch {
    throw new DeviceLinkError(field, `${field} is not a web origin: ${JSON.stringify(url.slice(0, 80))}.`)
  }
}

/**
 * The link the other device opens: the sign-in page `page` (where the passkey will live) at `/add-device`.
 *
 * @example
 * ```ts
 * addDeviceUrl({ page: 'http://backup.localhost:3003', account, chainId: 31337, from: location.origin })
 * ```
 */
export function addDeviceUrl(parameters: { page: string } & AddDeviceRequest): string {
  const url = new URL('/add-device', originOf('page', parameters.page))
  url.searchParams.set('account', getAddress(parameters.account))
  url.searchParams.set('chain', String(parameters.chainId))
  url.searchParams.set('from', originOf('from', parameters.from))
  return url.toString()
}

function single(query: Record<string, unknown>, key: string): string {
  const value = query[key]
  if (typeof value !== 'string' || value === '')
    throw new DeviceLinkError(
      key,
      `The link has no ${key}${Array.isArray(value) ? ' (it names several)' : ''}.`,
    )
  return value
}

/**
 * Parses the query of `/add-device` (a route query: strings, arrays or null). The chain must be configured here
 * and `from` one of the sign-in pages of this deployment (`origins`), so the answer goes nowhere else.
 *
 * @example
 * ```ts
 * const request = parseAddDeviceRequest(route.query, { chainIds: [31337], origins })
 * ```
 */
export function parseAddDeviceRequest(
  query: Record<string, unknown>,
  options: { chainIds: readonly number[]; origins: readonly string[] },
): AddDeviceRequest {
  const account = single(query, 'account')
  if (!isAddress(account, { strict: false }))
    throw new DeviceLinkError(
      'account',
      `The link's account is not an address: ${JSON.stringify(account.slice(0, 60))}.`,
    )
  const chain = single(query, 'chain')
  const chainId = /^[1-9][0-9]{0,15}$/.test(chain) ? Number(chain) : Number.NaN
  if (!options.chainIds.includes(chainId))
    throw new DeviceLinkError(
      'chain',
      `The link names chain ${JSON.stringify(chain.slice(0, 20))}, which this sign-in page does not serve (${options.chainIds.join(', ')}).`,
    )
  const from = originOf('from', single(query, 'from'))
  if (!options.origins.includes(from))
    throw new DeviceLinkError(
      'from',
      `The link comes from ${from}, which is not a sign-in page of this service.`,
    )
  return { account: getAddress(account), chainId, from }
}

/**
 * The code the other device shows: `sso-passkey-1.` + base64url(JSON).
 *
 * @example
 * ```ts
 * const code = encodeDevicePasskey(passkey)
 * ```
 */
export function encodeDevicePasskey(passkey: DevicePasskey): string {
  const json = JSON.stringify({
    account: passkey.account,
    credentialId: passkey.credentialId,
    x: passkey.x,
    y: passkey.y,
    rpId: passkey.rpId,
    origin: passkey.origin,
    proof: passkey.proof,
    ...(passkey.name ? { name: passkey.name } : {}),
  })
  return codePrefix + bytesToBase64Url(new TextEncoder().encode(json))
}

/** The answer link: the approving page's dashboard with the code in the fragment. */
export function devicePasskeyUrl(from: string, passkey: DevicePasskey): string {
  return `${originOf('from', from)}/dashboard#${fragmentKey}=${encodeDevicePasskey(passkey)}`
}

/** The code in a pasted text: the code itself, or a link whose fragment carries it. */
function codeOf(text: string): string {
  const trimmed = text.trim()
  const marker = `#${fragmentKey}=`
  const at = trimmed.indexOf(marker)
  return at >= 0 ? trimmed.slice(at + marker.length) : trimmed
}

// P-256 (secp256r1): y² = x³ - 3x + b over p.
const p256 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
}

/** Whether (x, y) is a point of P-256 (not the point at infinity). */
export function isP256Point(x: bigint, y: bigint): boolean {
  const { p, b } = p256
  if (x <= 0n || x >= p || y <= 0n || y >= p) return false
  return (y * y - (x * x * x - 3n * x + b)) % p === 0n
}

const printable = /^[\x20-\x7e]+$/

function field(object: Record<string, unknown>, key: string): string {
  const value = object[key]
  if (typeof value !== 'string') throw new DeviceLinkError(key, `The code has no ${key}.`)
  return value
}

function word(object: Record<string, unknown>, key: 'x' | 'y'): Hex {
  const value = field(object, key)
  if (!isHex(value, { strict: true }) || size(value) !== 32)
    throw new DeviceLinkError(key, `The passkey's public key ${key} is not 32 bytes of hex.`)
  return value.toLowerCase() as Hex
}

/**
 * Parses and checks what the other device sent (the code, or the whole answer link), without the chain: its
 * shape, that it is for `account`, that the passkey belongs to one of this service's sign-in pages (`origins`,
 * rpId = the page's host name), that the key is a P-256 point and that the proof is a signature by this
 * credential and key. The proof's signature itself is checked on chain ({@link checkDevicePasskey} in
 * lib/passkeys.ts).
 *
 * @example
 * ```ts
 * const passkey = parseDevicePasskey(pasted, { account: address, origins })
 * ```
 */
export function parseDevicePasskey(
  text: string,
  options: { account: Address; origins: readonly string[] },
): DevicePasskey {
  const code = codeOf(text)
  if (code === '') throw new DeviceLinkError('code', 'Paste the code or the link from the other device.')
  if (code.length > maxCodeLength)
    throw new DeviceLinkError(
      'code',
      `The code is too long (${code.length} characters, at most ${maxCodeLength}).`,
    )
  if (!code.startsWith(codePrefix))
    throw new DeviceLinkError(
      'code',
      `This is not a passkey code of this service (it starts with “${codePrefix}”).`,
    )
  let object: Record<string, unknown>
  try {
    const parsed = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(base64UrlToBytes(code.slice(codePrefix.length))),
    ) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object')
    object = parsed as Record<string, unknown>
  } catch {
    throw new DeviceLinkError('code', 'The code is damaged (copy all of it, or use the link).')
  }

  const account = field(object, 'account')
  if (!isAddress(account, { strict: false }))
    throw new DeviceLinkError('account', 'The code names no valid account address.')
  if (!isAddressEqual(account, options.account))
    throw new DeviceLinkError(
      'account',
      `This passkey was made for account ${getAddress(account)}, not for this one (${getAddress(options.account)}).`,
    )

  const credentialId = field(object, 'credentialId')
  let idBytes: Uint8Array
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(credentialId)) throw new Error('not base64url')
    idBytes = base64UrlToBytes(credentialId)
  } catch {
    throw new DeviceLinkError('credentialId', 'The credential id is not base64url.')
  }
  if (idBytes.length < 16 || idBytes.length > 1023)
    throw new DeviceLinkError(
      'credentialId',
      `A credential id is 16 to 1023 bytes, this one ${idBytes.length}.`,
    )

  const x = word(object, 'x')
  const y = word(object, 'y')
  if (!isP256Point(BigInt(x), BigInt(y)))
    throw new DeviceLinkError('x', 'The public key is not a point of the P-256 curve.')

  const origin = field(object, 'origin')
  if (!options.origins.includes(origin))
    throw new DeviceLinkError(
      'origin',
      `The passkey belongs to ${JSON.stringify(origin.slice(0, 80))}, which is not a sign-in page of this service (${options.origins.join(', ')}).`,
    )
  const rpId = field(object, 'rpId')
  if (rpId !== new URL(origin).hostname)
    throw new DeviceLinkError(
      'rpId',
      `The passkey's relying party ${JSON.stringify(rpId.slice(0, 80))} is not ${new URL(origin).hostname}.`,
    )

  const proof = field(object, 'proof')
  if (!isHex(proof, { strict: true }) || size(proof) > 2_048)
    throw new DeviceLinkError('proof', 'The proof of possession is not a hex signature.')
  let decoded: ReturnType<typeof decodeWebAuthnSignature>
  try {
    decoded = decodeWebAuthnSignature(proof)
  } catch (error) {
    throw new DeviceLinkError('proof', `The proof of possession is malformed: ${(error as Error).message}`)
  }
  if (
    decoded.credentialKey !== credentialKey(credentialId) ||
    decoded.x.toLowerCase() !== x ||
    decoded.y.toLowerCase() !== y
  )
    throw new DeviceLinkError('proof', 'The proof of possession was signed by another passkey.')

  const name = object.name
  if (name !== undefined && (typeof name !== 'string' || name.length > 40 || !printable.test(name)))
    throw new DeviceLinkError('name', 'The passkey name is not a short printable text.')

  return { account: getAddress(account), credentialId, x, y, rpId, origin, proof, name }
}
