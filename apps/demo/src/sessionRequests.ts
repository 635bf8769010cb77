/**
 * The session requests of the demo's session panel, built from its form: our own spec (`wallet_grantPermissions`,
 * `bad` breaking one rule on purpose) and the same token allowance as an ERC-7715 permission. Synchronous: they are
 * built inside the click, before the popup opens.
 */
import { allowance, callPolicy, lifetime, transferPolicy, unlimited } from '@sso/client/session'
import { type Address, erc20Abi, isAddress, numberToHex, parseEther, parseUnits, zeroAddress } from 'viem'

/** The session panel's form (amounts as typed, in token or ETH units; times in seconds or minutes). */
export type SessionForm = {
  token: string
  shop: string
  tokenPerHour: string
  period: string
  friend: string
  ethPerUse: string
  ethTotal: string
  minutes: string
  fee: string
  /** Also ask to call `approve` on the token (the popup warns and wants an acknowledgement). */
  withApprove: boolean
}

/** What the requests need besides the form. */
export type RequestContext = {
  /** The token's decimals. */
  decimals: number
  /** The chain's time (seconds): expiries count from it. */
  now: number
  /** The connected account (`banned-target` names it as a transfer target). */
  account?: Address | undefined
}

/** The spec request, from the form; `bad` breaks one rule on purpose. */
export function sessionSpecRequest(form: SessionForm, context: RequestContext, bad?: string) {
  if (!isAddress(form.token)) throw new Error('Enter the token address.')
  const { decimals, now } = context
  // The token's `transfer` or `approve`, to the shop only, up to `limit`.
  const toShop = (
    functionName: 'transfer' | 'approve',
    limit: ReturnType<typeof allowance> | ReturnType<typeof lifetime>,
  ) =>
    callPolicy({
      abi: erc20Abi,
      functionName,
      target: form.token as Address,
      args: [{ equal: form.shop as Address }, { limit }],
    })
  const friend = bad === 'banned-target' && context.account ? context.account : (form.friend as Address)
  return {
    expiresAt: bad === 'expiry-in-past' ? now - 60 : now + Number(form.minutes) * 60,
    feeLimit: bad === 'unlimited-fee' ? unlimited : lifetime(parseEther(form.fee)),
    ...(bad === 'zero-signer' ? { signer: zeroAddress } : {}),
    callPolicies: [
      toShop('transfer', allowance(parseUnits(form.tokenPerHour, decimals), Number(form.period))),
      ...(form.withApprove ? [toShop('approve', lifetime(parseUnits(form.tokenPerHour, decimals)))] : []),
    ],
    transferPolicies: [
      transferPolicy({
        target: friend,
        maxValuePerUse: parseEther(form.ethPerUse),
        valueLimit: lifetime(parseEther(form.ethTotal)),
      }),
    ],
  }
}

/** The token allowance of the spec asked the standard way (ERC-7715): one erc20-token-periodic permission, paid to the shop. */
export function erc7715Request(form: SessionForm, context: RequestContext & { chainId: number }) {
  if (!isAddress(form.token)) throw new Error('Enter the token address.')
  return {
    chainId: numberToHex(context.chainId),
    permission: {
      type: 'erc20-token-periodic',
      data: {
        tokenAddress: form.token,
        periodAmount: numberToHex(parseUnits(form.tokenPerHour, context.decimals)),
        periodDuration: Number(form.period),
        justification: 'Pay the shop without a popup',
      },
      isAdjustmentAllowed: false,
    },
    rules: [
      { type: 'expiry', data: { timestamp: context.now + Number(form.minutes) * 60 } },
      { type: 'payee', data: { addresses: [form.shop] } },
    ],
  }
}
