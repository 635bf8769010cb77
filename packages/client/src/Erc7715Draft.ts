/**
 * The draft shape of ERC-7715's `wallet_grantPermissions` (viem's experimental `grantPermissions`), kept for the
 * older name: read into the current requests (Erc7715.ts) and answered in the draft's own shape.
 */
import { sessionSpecBounds } from '@sso/contracts-abi'
import * as v from 'valibot'
import { type ExecutionPermissionRequest, Seconds, UnsupportedPermissionError } from './Erc7715.js'
import { Address } from './RpcShapes.js'

const DraftPolicy = v.object({ type: v.string(), data: v.optional(v.record(v.string(), v.unknown())) })
const DraftPermission = v.object({
  type: v.pipe(v.string(), v.minLength(1)),
  data: v.optional(v.record(v.string(), v.unknown())),
  policies: v.optional(v.array(DraftPolicy)),
  required: v.optional(v.boolean()),
})
/** viem's `grantPermissions` params entry: `{ expiry, permissions, signer? }`. */
export const DraftPermissionsRequest = v.object({
  expiry: Seconds,
  permissions: v.pipe(
    v.array(DraftPermission),
    v.minLength(1),
    v.maxLength(sessionSpecBounds.maxCallPolicies),
  ),
  signer: v.optional(
    v.union([
      v.object({ type: v.literal('wallet') }),
      v.object({
        type: v.literal('account'),
        data: v.union([v.object({ id: Address }), v.object({ address: Address })]),
      }),
    ]),
  ),
})
export type DraftPermissionsRequest = v.InferOutput<typeof DraftPermissionsRequest>

/** Whether a `wallet_grantPermissions` entry is the draft ERC-7715 shape (rather than our own session request). */
export function isDraftPermissionsRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'permissions' in value && 'expiry' in value
}

/**
 * The draft request as ERC-7715 requests: `erc20-token-transfer` with a `token-allowance` policy becomes an
 * `erc20-token-allowance`; `sso-session` passes through. Other types and policies are refused.
 */
export function draftToRequests(
  draft: DraftPermissionsRequest,
  chainId: `0x${string}`,
): ExecutionPermissionRequest[] {
  const signer = draft.signer
  const to =
    signer?.type === 'account' ? ('id' in signer.data ? signer.data.id : signer.data.address) : undefined
  const rules = [{ type: 'expiry', data: { timestamp: draft.expiry } }]
  return draft.permissions.map((permission, index) => {
    const policies = permission.policies ?? []
    for (const policy of policies)
      if (policy.type !== 'token-allowance')
        throw new UnsupportedPermissionError(
          permission.type,
          'unsupported-policy',
          `permissions[${index}]: the policy "${policy.type}" is not supported (supported: token-allowance).`,
        )
    const base = { chainId, ...(to ? { to } : {}), rules }
    if (permission.type === 'sso-session')
      return { ...base, permission: { type: 'sso-session', data: permission.data ?? {} } }
    if (permission.type === 'erc20-token-transfer') {
      const allowance = policies[0]?.data?.allowance
      if (allowance === undefined)
        throw new UnsupportedPermissionError(
          permission.type,
          'allowance-required',
          `permissions[${index}]: "erc20-token-transfer" needs a token-allowance policy.`,
        )
      return {
        ...base,
        permission: {
          type: 'erc20-token-allowance',
          data: { tokenAddress: permission.data?.address, allowanceAmount: allowance },
        },
      }
    }
    throw new UnsupportedPermissionError(
      permission.type,
      'unsupported-type',
      `permissions[${index}]: the permission type "${permission.type}" is not supported by wallet_grantPermissions (supported: erc20-token-transfer, sso-session; more through wallet_requestExecutionPermissions).`,
    )
  })
}

/** viem's `grantPermissions` answer: `{ expiry, grantedPermissions, permissionsContext, signerData }`. */
export function draftResponse(
  draft: DraftPermissionsRequest,
  result: { sessionId: `0x${string}`; account: `0x${string}`; expiresAt: number },
) {
  return {
    expiry: result.expiresAt,
    grantedPermissions: draft.permissions.map((permission) => ({
      ...permission,
      policies: permission.policies ?? [],
    })),
    permissionsContext: result.sessionId,
    signerData: { submitToAddress: result.account },
  }
}
