/**
 * Why a transaction the app sent to the popup is outside the app’s session (docs/architecture.md, section 5): the
 * popup finds the sessions this browser recorded for the requesting origin, checks the calls
 * against the spec and what the contract says is left, exactly as the client does, and says which rule they break
 * in the token's units, with when the limit resets. The app's own word is never used: it could say anything.
 */
import { checkSessionCalls, type SessionPolicyViolation } from '@sso/client/session'
import { type Address, type Hex, isAddressEqual } from 'viem'
import {
  type AccountSession,
  constraintWords,
  functionNameOf,
  limitView,
  readAccountSessions,
  type Unit,
} from './accountSessions'
import { sessionsOfApp } from './appRecords'
import { tokenInfo } from './chains'
import type { SsoChainConfig } from './config'
import { formatAmount, formatDateTime, formatRelative, shortHex } from './format'
import { tokenSelectors } from './sessionSummary'
import { bannedTargetsOf } from './sessions'

/** What the popup shows above a transaction that the app's session does not cover. */
export type OutsideSession = {
  sessionId: Hex
  /** One sentence: what the calls do that the session does not allow. */
  reason: string
  /** The limit concerned: `0.02 ETH left of 0.05 ETH per 1 h, resets at 14:00 (in 21 min)`. */
  limit?: string | undefined
}

type Call = { to: Address; data?: Hex | undefined; value?: bigint | undefined }
const eth: Unit = { symbol: 'ETH', decimals: 18 }

/**
 * The session of `origin` on this chain that these calls break, and how; undefined when the app holds no session
 * here (or its calls are within it, or the chain does not answer: the screen then shows the transaction alone).
 */
export async function findOutsideSession(parameters: {
  chain: SsoChainConfig
  account: Address
  origin: string
  calls: readonly Call[]
  now: number
}): Promise<OutsideSession | undefined> {
  const { chain, account, origin, calls, now } = parameters
  const ids = sessionsOfApp(origin, account, chain.id)
  if (ids.length === 0) return undefined
  const found = await readAccountSessions(chain, account, { now })
  if (!found.ok) return undefined
  const mine = found.sessions.filter((s) => ids.includes(s.id))
  // The newest active session is the one the app sends with; else the newest (expired or revoked) one.
  const session = mine.find((s) => s.status === 'active') ?? mine[0]
  if (!session) return undefined
  const violation = checkSessionCalls(session.spec, calls, {
    account,
    state: session.state,
    now,
    bannedTargets: bannedTargetsOf(chain),
  })
  if (!violation) return undefined
  // A token outside the chain's list: its symbol and decimals from the token itself (raw units when unreadable).
  const tokens: { address: Address; symbol: string; decimals: number }[] = [...chain.tokens]
  const target =
    violation.policy?.kind === 'call' ? session.spec.callPolicies[violation.policy.index]?.target : undefined
  if (target && !tokens.some((t) => isAddressEqual(t.address, target))) {
    const info = await tokenInfo(chain, target)
    if (info) tokens.push({ address: target, ...info })
  }
  return explainViolation(session, violation, calls, { tokens, now })
}

/**
 * A violation in words. Amounts in ETH or the token's units (from `tokens`), addresses shortened.
 *
 * @example
 * ```ts
 * explainViolation(session, { rule: 'value-limit-exceeded', ... }, calls, { tokens, now })
 * // { reason: 'Sends 0.05 ETH to 0x0000…F00D, more than the 0.02 ETH left of the session’s limit.', limit: '…' }
 * ```
 */
export function explainViolation(
  session: Pick<AccountSession, 'id' | 'spec' | 'state'>,
  violation: SessionPolicyViolation,
  calls: readonly Call[],
  options: { tokens: readonly { address: Address; symbol: string; decimals: number }[]; now: number },
): OutsideSession {
  const { spec, state } = session
  const call = violation.callIndex === undefined ? undefined : calls[violation.callIndex]
  const unitOf = (target: Address): Unit | undefined =>
    options.tokens.find((t) => isAddressEqual(t.address, target))
  const nameOf = (target: Address) => unitOf(target)?.symbol ?? shortHex(target)
  const ethText = (value: bigint) => formatAmount(value, 18, 'ETH')
  const out = (reason: string, limit?: string): OutsideSession => ({ sessionId: session.id, reason, limit })
  const limitText = (
    label: string,
    limit: Parameters<typeof limitView>[1],
    left: bigint | undefined,
    unit: Unit,
  ) => {
    const view = limitView(label, limit, left, unit, options.now)
    if (view.resetsAt === undefined) return view.text
    const at =
      view.resetsAt - options.now < 86_400
        ? new Date(view.resetsAt * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
        : formatDateTime(view.resetsAt)
    return `${view.text}, resets at ${at} (${formatRelative(view.resetsAt, options.now)})`
  }
  const p = violation.policy
  const transfer = p?.kind === 'transfer' ? spec.transferPolicies[p.index] : undefined
  const callPolicy = p?.kind === 'call' ? spec.callPolicies[p.index] : undefined
  const fn = call?.data && call.data.length >= 10 ? functionNameOf(call.data.slice(0, 10) as Hex) : 'call'

  switch (violation.rule) {
    case 'session-expired':
      return out(`The app’s session expired ${formatRelative(spec.expiresAt, options.now)}.`)
    case 'session-revoked':
      return out('The app’s session was revoked.')
    case 'session-not-active':
      return out('The app’s session is not active on this chain.')
    case 'banned-target':
    case 'forbidden-selector':
      return out('A session may never change your account’s settings, passkeys or modules.')
    case 'fee-limit-exceeded':
      return out(
        'The session’s allowance for gas fees is used up.',
        limitText('Gas fees', spec.feeLimit, state.feeRemaining, eth),
      )
    case 'no-transfer-policy':
      return out(`The session may not send ETH to ${shortHex(call?.to ?? '')}.`)
    case 'no-call-policy':
      return out(`The session may not call ${fn} on ${nameOf(call?.to ?? '0x')}.`)
    case 'invalid-calldata':
    case 'constraint-out-of-bounds':
      return out(`The call to ${nameOf(call?.to ?? '0x')} is not one the session can check.`)
    case 'value-per-use-exceeded':
      return out(
        transfer
          ? `Sends ${ethText(violation.amount ?? 0n)} to ${shortHex(transfer.target)}: the session allows at most ${ethText(transfer.maxValuePerUse)} per transfer.`
          : `Sends ${ethText(violation.amount ?? 0n)} with ${fn} on ${nameOf(call?.to ?? '0x')}: the session allows at most ${ethText(callPolicy?.maxValuePerUse ?? 0n)} per call.`,
      )
    case 'value-limit-exceeded': {
      const limit = transfer?.valueLimit ?? callPolicy?.valueLimit
      const left = transfer
        ? state.transferValueRemaining[p?.index ?? 0]
        : state.callPolicies[p?.index ?? 0]?.valueRemaining
      return out(
        `Sends ${ethText(violation.amount ?? 0n)}${transfer ? ` to ${shortHex(transfer.target)}` : ` with ${fn}`}, more than the ${ethText(violation.left ?? 0n)} left of the session’s limit.`,
        limit ? limitText('', limit, left, eth) : undefined,
      )
    }
    case 'constraint-violated':
    case 'constraint-limit-exceeded': {
      const constraint = callPolicy?.constraints[p?.constraint ?? -1]
      if (!callPolicy || !constraint) return out(`The ${fn} is outside what the session allows.`)
      const token = unitOf(callPolicy.target)
      const info = Object.values(tokenSelectors).find((t) => t.selector === callPolicy.selector.toLowerCase())
      const unit =
        token && info && constraint.index === info.amountIndex ? token : { symbol: '', decimals: 0 }
      const amount = (value: bigint) => formatAmount(value, unit.decimals, unit.symbol)
      if (violation.rule === 'constraint-violated')
        return out(
          `This ${fn} on ${nameOf(callPolicy.target)} breaks the session’s rule: ${constraintWords(callPolicy, constraint, token)}.`,
        )
      const what = unit.symbol
        ? `This ${fn} of ${amount(violation.amount ?? 0n)}`
        : `Argument ${constraint.index} of this ${fn} on ${nameOf(callPolicy.target)} (${amount(violation.amount ?? 0n)})`
      return out(
        `${what} is more than the ${amount(violation.left ?? 0n)} left of the session’s limit.`,
        limitText(
          '',
          constraint.limit,
          state.callPolicies[p?.index ?? 0]?.constraintRemaining[p?.constraint ?? 0],
          unit,
        ),
      )
    }
  }
}
