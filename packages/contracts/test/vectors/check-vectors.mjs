#!/usr/bin/env node
// Re-verifies every vector in webauthn-assertions.json (next to this file) from its raw bytes:
//   genuine: the ES256 signature over authenticatorData || sha256(clientDataJSON) verifies under plain ECDSA
//            (low-s not required), and every decoded field (origin, challenge, rpIdHash, flags, r, s, high-s)
//            matches the bytes it was decoded from;
//   forged:  the recorded signature validity (plain ECDSA and low-s) is what the bytes give.
// Prints one line per vector and exits non-zero on any failure.
// Run from the repository root: node packages/contracts/test/vectors/check-vectors.mjs
import { readFileSync } from 'node:fs'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'

const file = new URL('./webauthn-assertions.json', import.meta.url)
const { genuine, forged } = JSON.parse(readFileSync(file, 'utf8'))

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const bytes = (hex) => new Uint8Array(Buffer.from(hex.replace(/^0x/, ''), 'hex'))
const hex = (u8) => `0x${Buffer.from(u8).toString('hex')}`
const word = (n) => `0x${n.toString(16).padStart(64, '0')}`
const utf8 = (s) => new TextEncoder().encode(s)

function verify(v, lowS) {
  const message = new Uint8Array([...bytes(v.authenticatorData), ...sha256(utf8(v.clientDataJSON))])
  const publicKey = new Uint8Array([4, ...bytes(v.publicKey.x), ...bytes(v.publicKey.y)])
  return p256.verify(bytes(v.signature.der), message, publicKey, { prehash: true, lowS, format: 'der' })
}

// Field checks shared by both arrays; returns a list of problems.
function decodeProblems(v) {
  const problems = []
  const expect = (what, got, want) => {
    if (got !== want) problems.push(`${what}: ${got} != ${want}`)
  }
  const clientData = JSON.parse(v.clientDataJSON)
  const challenge = Buffer.from(clientData.challenge, 'base64url')
  expect('origin', clientData.origin, v.origin)
  expect('challenge', hex(challenge), v.challenge)
  expect('challengeLength', challenge.length, v.challengeLength)
  const authData = bytes(v.authenticatorData)
  if (authData.length < 37) problems.push('authenticatorData shorter than 37 bytes')
  if (v.rpIdHash !== undefined) expect('rpIdHash', hex(authData.slice(0, 32)), v.rpIdHash)
  if (v.rpId !== null) expect('sha256(rpId)', hex(sha256(utf8(v.rpId))), hex(authData.slice(0, 32)))
  const flags = authData[32]
  expect('flags.UP', (flags & 0x01) !== 0, v.flags.UP)
  expect('flags.UV', (flags & 0x04) !== 0, v.flags.UV)
  expect('flags.BE', (flags & 0x08) !== 0, v.flags.BE)
  expect('flags.BS', (flags & 0x10) !== 0, v.flags.BS)
  const sig = p256.Signature.fromBytes(bytes(v.signature.der), 'der')
  expect('signature.r', word(sig.r), v.signature.r)
  expect('signature.s', word(sig.s), v.signature.s)
  expect('signature.highS', sig.s > N / 2n, v.signature.highS)
  return problems
}

let passed = 0
let failed = 0
function report(kind, v, problems, detail) {
  if (problems.length === 0) {
    passed++
    console.log(`ok    ${kind} ${v.id} ${detail}`)
  } else {
    failed++
    console.log(`FAIL  ${kind} ${v.id}: ${problems.join('; ')}`)
  }
}

const ids = new Set()
for (const v of genuine) {
  const problems = []
  try {
    if (ids.has(v.id)) problems.push('duplicate id')
    ids.add(v.id)
    if (JSON.parse(v.clientDataJSON).type !== 'webauthn.get') problems.push('type is not webauthn.get')
    problems.push(...decodeProblems(v))
    const ok = verify(v, false)
    if (!ok) problems.push('signature does not verify')
    if (v.verifiesWithNoble !== ok)
      problems.push(`verifiesWithNoble is ${v.verifiesWithNoble}, noble says ${ok}`)
    if (ok && verify(v, true) === v.signature.highS) problems.push('low-s verification disagrees with highS')
  } catch (e) {
    problems.push(`error: ${e.message}`)
  }
  report(
    'genuine',
    v,
    problems,
    `[${v.family}] challenge ${v.challengeLength} B${v.signature.highS ? ', high-s' : ''}`,
  )
}

for (const v of forged) {
  const problems = []
  try {
    if (ids.has(v.id)) problems.push('duplicate id')
    ids.add(v.id)
    if (!['accept', 'reject'].includes(v.expected)) problems.push(`unknown expected outcome ${v.expected}`)
    if (!ids.has(v.basedOn)) problems.push(`basedOn ${v.basedOn} is not a genuine vector`)
    problems.push(...decodeProblems(v))
    const plain = verify(v, false)
    const lowS = verify(v, true)
    if (plain !== v.signatureValidPlainEcdsa) problems.push(`plain ECDSA says ${plain}`)
    if (lowS !== v.signatureValidLowS) problems.push(`low-s ECDSA says ${lowS}`)
    if (v.expected === 'accept' && !(plain && lowS)) problems.push('expected accept but the signature fails')
  } catch (e) {
    problems.push(`error: ${e.message}`)
  }
  report(
    'forged ',
    v,
    problems,
    `-> ${v.expected} (plain ECDSA ${v.signatureValidPlainEcdsa}, low-s ${v.signatureValidLowS})`,
  )
}

console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
