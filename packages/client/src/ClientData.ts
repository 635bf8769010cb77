/**
 * clientDataJSON as the WebAuthnValidator reads it: a list of members from which the contract rebuilds the exact
 * text the browser produced and the passkey signed (docs/webauthn.md). Browsers serialise the members in different
 * orders and shapes (Android escapes the origin's slashes and adds `androidPackageName`; Chrome sometimes adds
 * `other_keys_can_be_added_here`); cross-origin assertions (`crossOrigin: true`, `topOrigin`) are refused.
 */
import { InvalidWebAuthnDataError } from './WebAuthn.js'

export type Hex = `0x${string}`

/** One member of clientDataJSON, as the contract encodes it. */
export type ClientDataMember =
  | { kind: 'type' }
  | { kind: 'challenge'; challenge: string }
  /** `escaped`: the text has every `/` of the origin written `\/` (Android). */
  | { kind: 'origin'; origin: string; escaped: boolean }
  | { kind: 'crossOrigin' }
  | { kind: 'string'; key: string; value: string }

const tags = {
  type: 0x01,
  challenge: 0x02,
  origin: 0x03,
  escapedOrigin: 0x04,
  crossOrigin: 0x05,
  string: 0x06,
}
const reservedKeys = new Set(['type', 'challenge', 'origin', 'crossOrigin', 'topOrigin'])

/**
 * Splits a `webauthn.get` clientDataJSON into the members the contract can rebuild, in order. Throws
 * {@link InvalidWebAuthnDataError} naming what is not accepted: another type, a cross-origin assertion,
 * `topOrigin`, a member that is not a plain string, whitespace, or a missing challenge / origin.
 *
 * @example
 * ```ts
 * parseClientData('{"type":"webauthn.get","challenge":"q83v","origin":"https://a.b","crossOrigin":false}')
 * // [{ kind: 'type' }, { kind: 'challenge', challenge: 'q83v' }, { kind: 'origin', origin: 'https://a.b', escaped: false }, { kind: 'crossOrigin' }]
 * ```
 */
export function parseClientData(clientDataJSON: string): ClientDataMember[] {
  const fail = (why: string) => new InvalidWebAuthnDataError(`Unsupported clientDataJSON: ${why}.`)
  const text = clientDataJSON
  let i = 0
  // A JSON string starting at text[i] === '"': its raw text (escapes kept) and the index after its closing quote.
  const readString = (): string => {
    if (text[i] !== '"') throw fail(`expected a string at ${i}`)
    let j = i + 1
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
    if (j >= text.length) throw fail('unterminated string')
    const raw = text.slice(i + 1, j)
    i = j + 1
    return raw
  }
  if (text[i++] !== '{') throw fail('not a JSON object')
  const members: ClientDataMember[] = []
  const seen = new Set<string>()
  while (i < text.length) {
    const key = readString()
    if (text[i++] !== ':') throw fail(`no ":" after "${key}" (whitespace is not expected)`)
    if (seen.has(key)) throw fail(`"${key}" appears twice`)
    seen.add(key)
    if (key === 'crossOrigin') {
      if (text.startsWith('false', i)) {
        i += 5
        members.push({ kind: 'crossOrigin' })
      } else if (text.startsWith('true', i)) {
        throw fail('the assertion was made in a cross-origin frame (crossOrigin: true)')
      } else throw fail('crossOrigin is not a boolean')
    } else {
      if (text[i] !== '"') throw fail(`"${key}" is not a string`)
      const value = readString()
      if (key === 'type') {
        if (value !== 'webauthn.get') throw fail(`type is "${value}", not "webauthn.get"`)
        members.push({ kind: 'type' })
      } else if (key === 'challenge') {
        if (!/^[A-Za-z0-9_-]*$/.test(value)) throw fail('the challenge is not base64url')
        members.push({ kind: 'challenge', challenge: value })
      } else if (key === 'origin') {
        const origin = value.replaceAll('\\/', '/')
        if (origin.includes('\\') || origin.includes('"'))
          throw fail('the origin has escapes other than "\\/"')
        if (origin !== value && value !== origin.replaceAll('/', '\\/'))
          throw fail('the origin escapes some of its slashes but not all')
        members.push({ kind: 'origin', origin, escaped: origin !== value })
      } else if (key === 'topOrigin') {
        throw fail('the assertion was made in a cross-origin frame (topOrigin)')
      } else {
        if (/["\\]/.test(key) || /["\\]/.test(value)) throw fail(`member "${key}" has escaped characters`)
        members.push({ kind: 'string', key, value })
      }
    }
    const next = text[i++]
    if (next === '}') {
      if (i !== text.length) throw fail('text after the object')
      for (const required of ['type', 'challenge', 'origin'])
        if (!seen.has(required)) throw fail(`no "${required}" member`)
      return members
    }
    if (next !== ',') throw fail(`expected "," or "}" at ${i - 1}`)
  }
  throw fail('unterminated object')
}

/**
 * The member list as the contract reads it (tag bytes, see docs/webauthn.md).
 *
 * @example
 * ```ts
 * encodeClientDataMembers(parseClientData(assertion.clientDataJSON))
 * ```
 */
export function encodeClientDataMembers(members: readonly ClientDataMember[]): Hex {
  const bytes: number[] = []
  const text = (value: string, what: string) => {
    const encoded = new TextEncoder().encode(value)
    if (encoded.length > 255) throw new InvalidWebAuthnDataError(`The ${what} is longer than 255 bytes.`)
    return [...encoded]
  }
  for (const member of members) {
    if (member.kind === 'type') bytes.push(tags.type)
    else if (member.kind === 'challenge') bytes.push(tags.challenge)
    else if (member.kind === 'crossOrigin') bytes.push(tags.crossOrigin)
    else if (member.kind === 'origin') {
      const origin = text(member.origin, 'origin')
      bytes.push(member.escaped ? tags.escapedOrigin : tags.origin, origin.length, ...origin)
    } else {
      if (reservedKeys.has(member.key))
        throw new InvalidWebAuthnDataError(`"${member.key}" can't be sent as a plain string member.`)
      const key = text(member.key, 'member name')
      const value = text(member.value, `value of "${member.key}"`)
      bytes.push(tags.string, key.length, value.length, ...key, ...value)
    }
  }
  return `0x${bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

/**
 * Decodes a member list (inverse of {@link encodeClientDataMembers}); the challenge member carries `challenge`
 * (base64url) when given. Throws {@link InvalidWebAuthnDataError} on a malformed list.
 */
export function decodeClientDataMembers(encoded: Hex, challenge = ''): ClientDataMember[] {
  const bytes = Uint8Array.from((encoded.slice(2).match(/../g) ?? []).map((h) => Number.parseInt(h, 16)))
  const members: ClientDataMember[] = []
  const decoder = new TextDecoder()
  let i = 0
  const take = (length: number) => {
    if (i + length > bytes.length) throw new InvalidWebAuthnDataError('Truncated clientData member list.')
    const slice = bytes.subarray(i, i + length)
    i += length
    return slice
  }
  while (i < bytes.length) {
    const tag = take(1)[0]
    if (tag === tags.type) members.push({ kind: 'type' })
    else if (tag === tags.challenge) members.push({ kind: 'challenge', challenge })
    else if (tag === tags.crossOrigin) members.push({ kind: 'crossOrigin' })
    else if (tag === tags.origin || tag === tags.escapedOrigin) {
      const length = take(1)[0] ?? 0
      members.push({
        kind: 'origin',
        origin: decoder.decode(take(length)),
        escaped: tag === tags.escapedOrigin,
      })
    } else if (tag === tags.string) {
      const [keyLength = 0, valueLength = 0] = take(2)
      const key = decoder.decode(take(keyLength))
      members.push({ kind: 'string', key, value: decoder.decode(take(valueLength)) })
    } else throw new InvalidWebAuthnDataError(`Unknown clientData member tag ${tag}.`)
  }
  return members
}

/**
 * The clientDataJSON text a member list stands for (what the contract rebuilds and hashes).
 *
 * @example
 * ```ts
 * serializeClientData(parseClientData(json)) === json // true for every accepted json
 * ```
 */
export function serializeClientData(members: readonly ClientDataMember[]): string {
  const parts = members.map((member) => {
    switch (member.kind) {
      case 'type':
        return '"type":"webauthn.get"'
      case 'challenge':
        return `"challenge":"${member.challenge}"`
      case 'origin':
        return `"origin":"${member.escaped ? member.origin.replaceAll('/', '\\/') : member.origin}"`
      case 'crossOrigin':
        return '"crossOrigin":false'
      default:
        return `"${member.key}":"${member.value}"`
    }
  })
  return `{${parts.join(',')}}`
}

/** The origin a member list names (undefined when it has none). */
export function clientDataOrigin(members: readonly ClientDataMember[]): string | undefined {
  for (const member of members) if (member.kind === 'origin') return member.origin
  return undefined
}

/** The base64url challenge a member list carries (undefined when it has none). */
export function clientDataChallenge(members: readonly ClientDataMember[]): string | undefined {
  for (const member of members) if (member.kind === 'challenge') return member.challenge
  return undefined
}
