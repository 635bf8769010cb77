/**
 * The dapp's session requests as the session manager reads them (`wallet_grantPermissions`,
 * `wallet_revokePermissions`), before the popup sees them: malformed ones are -32602 here, in the dapp.
 */
import * as v from 'valibot'
import type { Hex } from 'viem'
import { InvalidParamsError } from '../Errors.js'
import { SessionSpec as SessionSpecSchema, type SessionSpecWire } from '../RpcSchema.js'

// The dapp's request: a spec without signer; amounts may be bigints (the helpers) or quantities.
const GrantRequest = v.object({
  /** Only for a key the dapp holds elsewhere (a backend): the manager then can't send with the session. */
  signer: v.optional(v.string()),
  expiresAt: v.number(),
  feeLimit: v.unknown(),
  callPolicies: v.optional(v.array(v.unknown())),
  transferPolicies: v.optional(v.array(v.unknown())),
})
export type GrantRequest = v.InferOutput<typeof GrantRequest>

const RevokeRequest = v.optional(
  v.union([v.object({ id: v.string() }), v.object({ all: v.literal(true) }), v.object({})]),
)

function bigintToQuantity(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x)),
  ) as unknown
}

/** A `wallet_grantPermissions` request as the dapp passed it, checked; its spec still lacks the signer. */
export function parseGrantRequest(request: unknown): GrantRequest {
  const parsed = v.safeParse(GrantRequest, bigintToQuantity(request))
  if (!parsed.success)
    throw new InvalidParamsError('Invalid wallet_grantPermissions request.', {
      details: v.summarize(parsed.issues),
    })
  return parsed.output
}

/** The spec of a grant request as it goes to the popup, with the session key's public key as its signer. */
export function grantSpecWire(grant: GrantRequest, signer: string | undefined): SessionSpecWire {
  const wire = v.safeParse(SessionSpecSchema, {
    callPolicies: [],
    transferPolicies: [],
    ...grant,
    signer,
  })
  if (!wire.success)
    throw new InvalidParamsError('Invalid session spec.', { details: v.summarize(wire.issues) })
  return wire.output
}

/**
 * Which sessions a `wallet_revokePermissions` request ends: `{ id }`, `{ all: true }`, or (nothing named) the
 * dapp's `own` current session.
 */
export function parseRevokeRequest(request: unknown, own: Hex | undefined): { id: Hex } | { all: true } {
  const parsed = v.safeParse(RevokeRequest, request)
  if (!parsed.success)
    throw new InvalidParamsError(
      'Invalid wallet_revokePermissions request: pass { id }, { all: true } or nothing.',
    )
  const input = parsed.output ?? {}
  if ('all' in input) return { all: true }
  if ('id' in input) return { id: input.id as Hex }
  if (own) return { id: own }
  throw new InvalidParamsError('There is no session to revoke.')
}
