/**
 * Genuine WebAuthn assertions from real browsers and authenticators (packages/contracts/test/vectors, each with
 * its provenance) through the client's encoder and the WebAuthnValidator on a real chain: every genuine one
 * verifies, every forgery fails. Run twice: on an Osaka anvil (P-256 precompile) and on a Prague anvil (no
 * precompile: OpenZeppelin's Solidity fallback), which also reports the gas of both paths.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodeWebAuthnSignature } from '@sso/client/account'
import { P256_N, parseClientData, serializeClientData } from '@sso/client/webauthn'
import { contractsDir, ensureContractsBuilt, findContracts, readArtifact } from '@sso/contracts-abi/artifacts'
import {
  type Abi,
  type Address,
  concatHex,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  numberToHex,
  type PublicClient,
  sliceHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { anvilCommand } from './internal/binaries.js'
import { type Child, spawnChild, waitHealthy } from './internal/Child.js'
import { freePorts } from './internal/ports.js'
import { anvilKeys } from './Stack.js'

type Vector = {
  id: string
  family: string
  authenticator: string
  source: { repo: string; path: string; note?: string }
  /** null where the source gives only the rpId hash (not checkable on chain, which commits to the rpId). */
  rpId: string | null
  origin: string
  publicKey: { x: Hex; y: Hex }
  credentialId: Hex | null
  authenticatorData: Hex
  clientDataJSON: string
  signature: { der: Hex; r: Hex; s: Hex }
  challenge: Hex
  challengeLength: number
  flags: { UP: boolean; UV: boolean; BE?: boolean; BS?: boolean }
}
type Forgery = Vector & { basedOn: string; change: string; expected: 'reject' | 'accept' }

const vectorsFile = path.join(contractsDir, 'test/vectors/webauthn-assertions.json')
const vectors = JSON.parse(fs.readFileSync(vectorsFile, 'utf8')) as { genuine: Vector[]; forged: Forgery[] }

/** What the contract checks: 32-byte challenges (it signs hashes), UV required, a clientDataJSON it can express. */
function contractCase(v: Vector): { expressible: boolean; why?: string } {
  if (v.challengeLength !== 32) return { expressible: false, why: `${v.challengeLength}-byte challenge` }
  if (v.rpId === null) return { expressible: false, why: 'no rpId in the source' }
  try {
    parseClientData(v.clientDataJSON)
    return { expressible: true }
  } catch (error) {
    return { expressible: false, why: (error as Error).message }
  }
}

// verifyWithKey does not look up the credential: a source without the id gets a placeholder.
const base64Url = (hex: Hex | null) => Buffer.from((hex ?? '0x00').slice(2), 'hex').toString('base64url')

function encode(v: Vector): Hex {
  return encodeWebAuthnSignature({
    credential: { id: base64Url(v.credentialId), publicKey: v.publicKey },
    assertion: {
      authenticatorData: v.authenticatorData,
      clientDataJSON: v.clientDataJSON,
      signature: v.signature.der,
    },
  })
}

async function startChain(hardfork: 'osaka' | 'prague') {
  const [port] = await freePorts(1)
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), `sso-vectors-${hardfork}-`))
  const anvil = anvilCommand()
  const child = spawnChild({
    name: `anvil-${hardfork}`,
    command: anvil.command,
    args: [
      ...anvil.args,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--hardfork',
      hardfork,
      '--chain-id',
      '31999',
    ],
    logDir,
  })
  const rpcUrl = `http://127.0.0.1:${port}`
  const client = createPublicClient({ transport: http(rpcUrl) })
  await waitHealthy(child, () => client.getChainId().then(() => true), {
    timeoutMs: 15_000,
    what: 'eth_chainId',
  })
  const contract = findContracts().find((c) => c.name === 'WebAuthnValidator')
  if (!contract) throw new Error('WebAuthnValidator is not among the contracts')
  const { abi, bytecode } = readArtifact(contract)
  const wallet = createWalletClient({ transport: http(rpcUrl), account: privateKeyToAccount(anvilKeys[0]) })
  const hash = await wallet.deployContract({ abi, bytecode, chain: null })
  const receipt = await client.waitForTransactionReceipt({ hash })
  return { child, client: client as PublicClient, abi, address: receipt.contractAddress as Address }
}

describe.each(['osaka', 'prague'] as const)('WebAuthn vectors on %s', (hardfork) => {
  let chain: { child: Child; client: PublicClient; abi: Abi; address: Address }
  beforeAll(async () => {
    await ensureContractsBuilt()
    chain = await startChain(hardfork)
  }, 120_000)
  afterAll(async () => {
    await chain?.child.stop()
  })

  /** Checks `signature` of `v.challenge` for the passkey as registered (`registered`: its key, rpId, origin). */
  const verify = (v: Vector, signature: Hex, registered: Vector = v) =>
    chain.client.readContract({
      address: chain.address,
      abi: chain.abi,
      functionName: 'verifyWithKey',
      args: [
        registered.publicKey.x,
        registered.publicKey.y,
        registered.rpId,
        registered.origin,
        v.challenge,
        signature,
      ],
    }) as Promise<boolean>

  test('behavior: every genuine assertion with a 32-byte challenge and UV verifies on chain', async () => {
    const verified: string[] = []
    const gas: bigint[] = []
    // The client picks the form: the short one for the shapes browsers make for web pages (docs/webauthn.md).
    const forms = { short: 0, general: 0 }
    for (const v of vectors.genuine) {
      const { expressible } = contractCase(v)
      if (!expressible || !v.flags.UV) continue
      const signature = encode(v)
      forms[Number(sliceHex(signature, 0x84, 0x85)) & 0x80 ? 'short' : 'general']++
      expect(await verify(v, signature), `${v.id} (${v.source.repo}/${v.source.path})`).toBe(true)
      gas.push(
        await chain.client.estimateContractGas({
          address: chain.address,
          abi: chain.abi,
          functionName: 'verifyWithKey',
          args: [v.publicKey.x, v.publicKey.y, v.rpId, v.origin, v.challenge, signature],
        }),
      )
      verified.push(`${v.family}: ${v.id}`)
    }
    expect(verified.length).toBeGreaterThan(0)
    expect(forms.short, 'genuine assertions sent in the short form').toBeGreaterThanOrEqual(5)
    expect(forms.general, 'genuine assertions sent in the general form').toBeGreaterThan(0)
    const median = [...gas].sort((a, b) => (a < b ? -1 : 1))[Math.floor(gas.length / 2)]
    console.info(
      `[vectors] ${hardfork}: ${verified.length} genuine assertions verified on chain (${forms.short} in the short form, ${forms.general} in the general form); verifyWithKey gas median ${median} (eth_estimateGas, incl. 21,000 + calldata)`,
    )
  })

  test('behavior: a genuine assertion without UV is refused (the validator requires user verification)', async () => {
    for (const v of vectors.genuine) {
      if (!contractCase(v).expressible || v.flags.UV) continue
      expect(await verify(v, encode(v)), v.id).toBe(false)
    }
  })

  test('error: every forgery of a genuine assertion is refused, checked against the genuine registration', async () => {
    let checked = 0
    let notOnChain = 0
    for (const f of vectors.forged) {
      const genuine = vectors.genuine.find((g) => g.id === f.basedOn)
      expect(genuine?.id, f.id).toBe(f.basedOn)
      let signature: Hex
      try {
        signature = encode(f)
      } catch (error) {
        // The encoder already refuses it (crossOrigin true, topOrigin, another type): nothing reaches the chain.
        expect((error as Error).name, f.id).toBe('InvalidWebAuthnDataError')
        expect(f.expected, f.id).toBe('reject')
        checked++
        continue
      }
      if (f.challengeLength !== 32 || genuine?.rpId === null) {
        notOnChain++
        continue
      }
      // The encoder sends low-s; a high-s forgery is sent as such, straight to the contract.
      if (/high-s/.test(f.id) && f.expected === 'reject') {
        // s is the fourth word after the 4-byte credential key
        const s = BigInt(sliceHex(signature, 0x64, 0x84))
        signature = concatHex([
          sliceHex(signature, 0, 0x64),
          numberToHex(P256_N - s, { size: 32 }),
          sliceHex(signature, 0x84),
        ])
      }
      expect(await verify(f, signature, genuine), `${f.id}: ${f.change}`).toBe(f.expected === 'accept')
      checked++
    }
    expect(checked + notOnChain).toBe(vectors.forged.length)
    expect(checked).toBeGreaterThanOrEqual(vectors.forged.length - 2)
  })
})

describe('WebAuthn vectors in the client', () => {
  test('behavior: every genuine clientDataJSON the contract can express rebuilds byte for byte from its members', () => {
    const families = new Map<string, number>()
    for (const v of vectors.genuine) {
      const { expressible, why } = contractCase({ ...v, challengeLength: 32, rpId: v.rpId ?? 'unknown' })
      if (!expressible) {
        // Only shapes the validator refuses on purpose may fail here.
        expect(why, v.id).toMatch(/cross-origin|topOrigin|not a string/)
        continue
      }
      expect(serializeClientData(parseClientData(v.clientDataJSON)), v.id).toBe(v.clientDataJSON)
      families.set(v.family, (families.get(v.family) ?? 0) + 1)
    }
    console.info(`[vectors] client encoder by family: ${JSON.stringify(Object.fromEntries(families))}`)
    expect(families.size).toBeGreaterThan(0)
  })
})
