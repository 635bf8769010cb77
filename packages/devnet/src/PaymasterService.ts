/**
 * An ERC-7677 paymaster web service for the SponsorPaymaster in its verifying mode (docs/paymaster.md): it answers
 * `pm_getPaymasterStubData` and `pm_getPaymasterData` for the user operations its sponsorship policy accepts (an
 * allow list of apps, a spend cap per account and per day, a cap on all it pays per day) and signs those with the
 * paymaster's verifying signer. The devnet runs one per chain; an operator runs the same behind a load balancer.
 */
import * as http from 'node:http'
import { Errors } from '@sso/client'
import { entryPoint08 } from '@sso/contracts-abi'
import { type Address, getAddress, type Hex, hashTypedData, isAddress, isHex, numberToHex, toHex } from 'viem'
import { toPackedUserOperation, type UserOperation } from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'

/** Who and how much the service sponsors. Amounts are the operations' maximum cost in wei (gas limits x max fee). */
export type SponsorshipPolicy = {
  /** App origins it sponsors (the `app` of the ERC-7677 context), or `'*'` for any. */
  apps: readonly string[] | '*'
  /** The most it pays for one account per UTC day. */
  perAccountPerDay: bigint
  /** The most it pays in all per UTC day. */
  perDay: bigint
  /** How long a signature stays valid, seconds. */
  validForSeconds: number
}

/** The devnet's policy: any app, 1 ETH per account and 100 ETH in all per day, signatures valid 10 minutes. */
export const devnetSponsorshipPolicy: SponsorshipPolicy = {
  apps: '*',
  perAccountPerDay: 10n ** 18n,
  perDay: 100n * 10n ** 18n,
  validForSeconds: 600,
}

/** JSON-RPC error codes of the service's answers. */
export const paymasterErrorCodes = {
  /** Malformed request: not an EntryPoint v0.8 user operation of this chain. */
  invalidParams: -32602,
  /** Unknown method. */
  methodNotFound: -32601,
  /** The policy does not sponsor this operation (`data.reason` says which rule). */
  notSponsored: -32001,
} as const

/** Why the policy refused an operation. */
export type RefusalReason = 'app-not-allowed' | 'account-daily-cap' | 'daily-cap'

/** A refusal or a malformed request, as the JSON-RPC error the service answers. */
export class PaymasterServiceError extends Errors.RpcError {
  override name = 'PaymasterServiceError'
  declare readonly data: { reason: RefusalReason; [key: string]: unknown } | undefined
  constructor(code: number, message: string, data?: { reason: RefusalReason; [key: string]: unknown }) {
    super(code, message, { data })
  }
}

export type SponsorParameters = {
  chainId: number
  /** The SponsorPaymaster whose verifying signer `signerKey` is. */
  paymaster: Address
  /** The verifying signer's private key. */
  signerKey: Hex
  policy: SponsorshipPolicy
  /** Seconds since the epoch (tests move it). Default the wall clock. */
  now?: () => number
}

type Operation = UserOperation<'0.8'>

/** Gas limits the stub data asks for: ECDSA recovery and the window checks, with margin; no postOp. */
const paymasterVerificationGasLimit = 60_000n
const paymasterPostOpGasLimit = 0n
/** 65 bytes of the right shape, so estimation sees a signature of the right length. */
const stubSignature: Hex = `0x${'ff'.repeat(32)}${'00'.repeat(32)}1b`

/**
 * The policy and the signing, without HTTP: what the service does for one request. Spending is counted when data
 * is signed (`pm_getPaymasterData`), at the operation's maximum cost, per UTC day.
 */
export function createSponsor(parameters: SponsorParameters) {
  const { chainId, policy } = parameters
  const paymaster = getAddress(parameters.paymaster)
  const signer = privateKeyToAccount(parameters.signerKey)
  const now = parameters.now ?? (() => Math.floor(Date.now() / 1000))
  const spent = new Map<string, bigint>()
  const day = () => Math.floor(now() / 86_400)
  const key = (who: string) => `${day()}:${who}`
  const spentBy = (who: string) => spent.get(key(who)) ?? 0n

  const parse = (params: unknown): { op: Operation; app: string | undefined } => {
    if (!Array.isArray(params) || params.length < 3)
      throw new PaymasterServiceError(
        paymasterErrorCodes.invalidParams,
        'Expected [userOperation, entryPoint, chainId, context?].',
      )
    const [raw, entryPoint, chain, context] = params as [unknown, unknown, unknown, unknown]
    if (typeof entryPoint !== 'string' || entryPoint.toLowerCase() !== entryPoint08.address.toLowerCase())
      throw new PaymasterServiceError(
        paymasterErrorCodes.invalidParams,
        `Only the EntryPoint v0.8 (${entryPoint08.address}).`,
      )
    if (typeof chain !== 'string' || !isHex(chain) || Number(chain) !== chainId)
      throw new PaymasterServiceError(
        paymasterErrorCodes.invalidParams,
        `This service sponsors chain ${chainId} only.`,
      )
    return { op: parseOperation(raw), app: appOf(context) }
  }

  const check = (op: Operation, app: string | undefined, cost: bigint) => {
    if (policy.apps !== '*' && (app === undefined || !policy.apps.includes(app)))
      throw new PaymasterServiceError(
        paymasterErrorCodes.notSponsored,
        `Not sponsored: ${app ?? 'an unnamed app'} is not on the list of sponsored apps.`,
        { reason: 'app-not-allowed' },
      )
    const account = op.sender.toLowerCase()
    if (spentBy(account) + cost > policy.perAccountPerDay)
      throw new PaymasterServiceError(
        paymasterErrorCodes.notSponsored,
        'Not sponsored: this account has used its sponsorship for today.',
        { reason: 'account-daily-cap', left: toHex(policy.perAccountPerDay - spentBy(account)) },
      )
    if (spentBy('*') + cost > policy.perDay)
      throw new PaymasterServiceError(
        paymasterErrorCodes.notSponsored,
        'Not sponsored: the service has reached its sponsorship for today.',
        { reason: 'daily-cap' },
      )
  }

  // Valid at once (validAfter 0): bundlers simulate at the latest block, whose time on a quiet chain can be well
  // behind the wall clock; only the end of the window bounds how long a signature can be used.
  const window = () => ({ validAfter: 0, validUntil: now() + policy.validForSeconds })
  const data = (validAfter: number, validUntil: number, signature: Hex): Hex =>
    `0x${validAfter.toString(16).padStart(12, '0')}${validUntil.toString(16).padStart(12, '0')}${signature.slice(2)}`

  return {
    /** The verifying signer's address: what `setVerifyingSigner` must name. */
    signer: signer.address,
    paymaster,
    /** What the policy has counted for `account` today (wei); `'*'` for everything. */
    spentToday: (account: Address | '*') => spentBy(account === '*' ? '*' : account.toLowerCase()),

    /** ERC-7677 `pm_getPaymasterStubData`: gas limits and data of the right size, checked against the policy. */
    stubData(params: unknown) {
      const { op, app } = parse(params)
      check(op, app, maxCost(op))
      const { validAfter, validUntil } = window()
      return {
        paymaster,
        paymasterData: data(validAfter, validUntil, stubSignature),
        paymasterVerificationGasLimit: numberToHex(paymasterVerificationGasLimit),
        paymasterPostOpGasLimit: numberToHex(paymasterPostOpGasLimit),
        sponsor: { name: 'SSO' },
        isFinal: false,
      }
    },

    /** ERC-7677 `pm_getPaymasterData`: signs the final operation (all gas fields set) and counts its cost. */
    async data(params: unknown) {
      const { op, app } = parse(params)
      const cost = maxCost(op)
      check(op, app, cost)
      const { validAfter, validUntil } = window()
      const packed = toPackedUserOperation({ ...op, paymaster, paymasterData: '0x' })
      const hash = hashTypedData({
        domain: { name: 'SponsorPaymaster', version: '1', chainId, verifyingContract: paymaster },
        types: userOperationRequestTypes,
        primaryType: 'UserOperationRequest',
        message: {
          sender: packed.sender,
          nonce: packed.nonce,
          initCode: packed.initCode,
          callData: packed.callData,
          accountGasLimits: packed.accountGasLimits,
          preVerificationGas: packed.preVerificationGas,
          gasFees: packed.gasFees,
          paymasterVerificationGasLimit: op.paymasterVerificationGasLimit ?? 0n,
          paymasterPostOpGasLimit: op.paymasterPostOpGasLimit ?? 0n,
          validAfter,
          validUntil,
        },
      })
      const signature = await signer.sign({ hash })
      for (const who of [op.sender.toLowerCase(), '*']) spent.set(key(who), spentBy(who) + cost)
      return { paymaster, paymasterData: data(validAfter, validUntil, signature) }
    },
  }
}

/** OpenZeppelin PaymasterSigner's EIP-712 type (what the SponsorPaymaster's `getHash` hashes). */
const userOperationRequestTypes = {
  UserOperationRequest: [
    { name: 'sender', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'initCode', type: 'bytes' },
    { name: 'callData', type: 'bytes' },
    { name: 'accountGasLimits', type: 'bytes32' },
    { name: 'preVerificationGas', type: 'uint256' },
    { name: 'gasFees', type: 'bytes32' },
    { name: 'paymasterVerificationGasLimit', type: 'uint256' },
    { name: 'paymasterPostOpGasLimit', type: 'uint256' },
    { name: 'validAfter', type: 'uint48' },
    { name: 'validUntil', type: 'uint48' },
  ],
} as const

/** The most an operation can cost: every gas limit at its max fee per gas. */
function maxCost(op: Operation): bigint {
  const gas =
    op.callGasLimit +
    op.verificationGasLimit +
    op.preVerificationGas +
    (op.paymasterVerificationGasLimit ?? paymasterVerificationGasLimit) +
    (op.paymasterPostOpGasLimit ?? paymasterPostOpGasLimit)
  return gas * op.maxFeePerGas
}

const quantity = (value: unknown, field: string): bigint => {
  if (value === undefined || value === null) return 0n
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value))
    throw new PaymasterServiceError(
      paymasterErrorCodes.invalidParams,
      `userOperation.${field} must be a hex quantity.`,
    )
  return BigInt(value)
}
const bytes = (value: unknown, field: string, max = 128 * 1024): Hex => {
  if (value === undefined || value === null) return '0x'
  if (typeof value !== 'string' || !isHex(value) || value.length % 2 !== 0 || value.length > 2 + 2 * max)
    throw new PaymasterServiceError(
      paymasterErrorCodes.invalidParams,
      `userOperation.${field} must be hex bytes.`,
    )
  return value
}

/** An ERC-7769 (JSON-RPC) EntryPoint v0.8 user operation, checked field by field. */
function parseOperation(raw: unknown): Operation {
  if (typeof raw !== 'object' || raw === null)
    throw new PaymasterServiceError(paymasterErrorCodes.invalidParams, 'userOperation must be an object.')
  const o = raw as Record<string, unknown>
  if (typeof o.sender !== 'string' || !isAddress(o.sender))
    throw new PaymasterServiceError(
      paymasterErrorCodes.invalidParams,
      'userOperation.sender must be an address.',
    )
  const factory = o.factory === undefined || o.factory === null ? undefined : String(o.factory)
  if (factory !== undefined && !isAddress(factory))
    throw new PaymasterServiceError(
      paymasterErrorCodes.invalidParams,
      'userOperation.factory must be an address.',
    )
  return {
    sender: getAddress(o.sender),
    nonce: quantity(o.nonce, 'nonce'),
    ...(factory ? { factory: getAddress(factory), factoryData: bytes(o.factoryData, 'factoryData') } : {}),
    callData: bytes(o.callData, 'callData'),
    callGasLimit: quantity(o.callGasLimit, 'callGasLimit'),
    verificationGasLimit: quantity(o.verificationGasLimit, 'verificationGasLimit'),
    preVerificationGas: quantity(o.preVerificationGas, 'preVerificationGas'),
    maxFeePerGas: quantity(o.maxFeePerGas, 'maxFeePerGas'),
    maxPriorityFeePerGas: quantity(o.maxPriorityFeePerGas, 'maxPriorityFeePerGas'),
    paymasterVerificationGasLimit:
      o.paymasterVerificationGasLimit === undefined
        ? undefined
        : quantity(o.paymasterVerificationGasLimit, 'paymasterVerificationGasLimit'),
    paymasterPostOpGasLimit:
      o.paymasterPostOpGasLimit === undefined
        ? undefined
        : quantity(o.paymasterPostOpGasLimit, 'paymasterPostOpGasLimit'),
    signature: bytes(o.signature, 'signature'),
  } as Operation
}

/** The app a request is for: ERC-7677's context is free-form; ours carries `{ app: <origin> }`. */
function appOf(context: unknown): string | undefined {
  if (typeof context !== 'object' || context === null) return undefined
  const app = (context as Record<string, unknown>).app
  return typeof app === 'string' && app.length <= 512 ? app : undefined
}

/** A running paymaster service. */
export type PaymasterService = {
  url: string
  port: number
  sponsor: Sponsor
  close: () => Promise<void>
}

/** What {@link createSponsor} returns: the policy and the signing of one service. */
export type Sponsor = ReturnType<typeof createSponsor>

/**
 * Serves {@link createSponsor} as ERC-7677 JSON-RPC on `http://127.0.0.1:<port>` (CORS open: the auth server calls
 * it from its pages). Bodies over 256 KiB are refused.
 *
 * @example
 * const service = await startPaymasterService({ port: 3010, chainId: 31337, paymaster, signerKey, policy: devnetSponsorshipPolicy })
 */
export async function startPaymasterService(
  parameters: SponsorParameters & { port: number },
): Promise<PaymasterService> {
  return servePaymaster(createSponsor(parameters), parameters.port)
}

/** Serves `sponsor` on `http://127.0.0.1:<port>` (see {@link startPaymasterService}); the devnet's service restarts it. */
export async function servePaymaster(sponsor: Sponsor, port: number): Promise<PaymasterService> {
  const server = http.createServer((request, response) => {
    const headers = {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'content-type',
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, headers).end()
      return
    }
    if (request.method !== 'POST') {
      response.writeHead(405, headers).end()
      return
    }
    let body = ''
    let tooLarge = false
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString()
      if (body.length > 256 * 1024) {
        tooLarge = true
        request.destroy()
      }
    })
    request.on('end', async () => {
      if (tooLarge) return
      const send = (payload: unknown) =>
        response
          .writeHead(200, { ...headers, 'content-type': 'application/json' })
          .end(JSON.stringify(payload))
      let message: { id?: unknown; method?: unknown; params?: unknown }
      try {
        message = JSON.parse(body)
      } catch {
        send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error.' } })
        return
      }
      const id = message.id ?? null
      try {
        let result: unknown
        if (message.method === 'pm_getPaymasterStubData') result = sponsor.stubData(message.params)
        else if (message.method === 'pm_getPaymasterData') result = await sponsor.data(message.params)
        else
          throw new PaymasterServiceError(
            paymasterErrorCodes.methodNotFound,
            `Unknown method ${String(message.method)}.`,
          )
        send({ jsonrpc: '2.0', id, result })
      } catch (error) {
        const known = error instanceof PaymasterServiceError
        send({
          jsonrpc: '2.0',
          id,
          error: {
            code: known ? error.code : -32603,
            message: known ? error.message : 'Internal error.',
            ...(known && error.data ? { data: error.data } : {}),
          },
        })
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const bound = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    sponsor,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
