/**
 * Every session of the account on a chain (dashboard, docs/dashboard.md): found from the SessionKeyValidator's
 * `SessionCreated` events (the spec travels in the event; the contract keeps only its hash), with the state the
 * contract reports now (`sessionState`: status and what is left of each limit in the current period), and its
 * policies in plain words.
 */
import {
  decodeSessionSpec,
  getSessionState,
  type SessionSpec,
  type SessionState,
  sessionKeyValidatorAbi,
  type UsageLimit,
} from '@sso/client/session'
import { type Address, encodeEventTopics, getAddress, type Hex, isAddressEqual, numberToHex, pad } from 'viem'
import { firstLine } from './assets'
import { getBatchClient } from './chains'
import { logsFrom, type SsoChainConfig } from './config'
import { formatAmount, formatDuration, shortHex } from './format'
import { tokenSelectors } from './sessionSummary'
import { sessionValidatorOf } from './sessions'

/** One limit of a session, as the dashboard shows it. */
export type SessionLimitView = {
  /** `Gas fees`, `ETH to 0x…`, `DUSD sent with transfer`. */
  label: string
  /** `0.4 ETH left of 1 ETH per 1 h`, `no limit`. */
  text: string
  /** When the current period ends (allowances), seconds. */
  resetsAt: number | undefined
  /** 0..1 of the limit left (undefined without a limit), for a bar. */
  left: number | undefined
}

export type AccountSession = {
  chainId: number
  chainName: string
  id: Hex
  spec: SessionSpec
  /** `active`, `expired` (past `expiresAt`), `revoked`. */
  status: 'active' | 'expired' | 'revoked' | 'none'
  createdBlock: bigint
  createdTx: Hex
  /** What it may do, one line per policy. */
  policies: string[]
  limits: SessionLimitView[]
  /** What the contract reported (remaining amounts in the current period). */
  state: SessionState
}

/** Sessions of one chain, or why they could not be read. */
export type ChainSessions =
  | { chainId: number; ok: true; sessions: AccountSession[] }
  | { chainId: number; ok: false; error: string }

export type Unit = { symbol: string; decimals: number }
const eth: Unit = { symbol: 'ETH', decimals: 18 }
const selectorNames = new Map<string, string>(
  Object.entries(tokenSelectors).map(([name, t]) => [t.selector, name]),
)
const statusOrder = { active: 0, expired: 1, revoked: 2, none: 3 } as const

/**
 * Reads the sessions of `account` on `chain`: `SessionCreated` logs in ranges of `blockRange` blocks, then one
 * batch of `sessionState` calls. Never throws: a chain that does not answer gives `{ ok: false, error }`.
 *
 * @example
 * ```ts
 * const found = await readAccountSessions(chain, account, { now })
 * ```
 */
export async function readAccountSessions(
  chain: SsoChainConfig,
  account: Address,
  options: { now: number; fromBlock?: bigint; blockRange?: bigint },
): Promise<ChainSessions> {
  try {
    const client = getBatchClient(chain)
    const validator = sessionValidatorOf(chain)
    const latest = await client.getBlockNumber({ cacheTime: 0 })
    const range = options.blockRange ?? 50_000n
    const [topic] = encodeEventTopics({ abi: sessionKeyValidatorAbi, eventName: 'SessionCreated' })
    const floor = options.fromBlock ?? logsFrom(chain)
    const windows: [bigint, bigint][] = []
    for (let to = latest; to >= floor; to -= range) {
      const from = to - range + 1n > floor ? to - range + 1n : floor
      windows.push([from, to])
      if (from === floor) break
    }
    const logs = (
      await Promise.all(
        windows.map(
          ([from, to]) =>
            client.request({
              method: 'eth_getLogs',
              params: [
                {
                  address: validator,
                  topics: [topic!, pad(account.toLowerCase() as Hex, { size: 32 })],
                  fromBlock: numberToHex(from),
                  toBlock: numberToHex(to),
                },
              ],
            }) as unknown as Promise<{ topics: Hex[]; data: Hex; blockNumber: Hex; transactionHash: Hex }[]>,
        ),
      )
    ).flat()
    const found: { id: Hex; spec: SessionSpec; block: bigint; tx: Hex }[] = []
    for (const log of logs) {
      const id = log.topics[2] as Hex
      if (found.some((f) => f.id === id)) continue
      try {
        // `bytes spec` is the event's only data: offset, length, bytes.
        const length = Number(BigInt(`0x${log.data.slice(66, 130)}`))
        const spec = decodeSessionSpec(`0x${log.data.slice(130, 130 + length * 2)}` as Hex)
        found.push({ id, spec, block: BigInt(log.blockNumber), tx: log.transactionHash })
      } catch {
        // An event is chain data: a spec that does not decode is skipped, not a failure of the panel.
      }
    }
    const states = await Promise.all(
      found.map((f) => getSessionState({ client, validator, account, spec: f.spec })),
    )
    const sessions = found.map((f, i) => toView(chain, f, states[i]!, options.now))
    sessions.sort(
      (a, b) => statusOrder[a.status] - statusOrder[b.status] || Number(b.createdBlock - a.createdBlock),
    )
    return { chainId: chain.id, ok: true, sessions }
  } catch (error) {
    return { chainId: chain.id, ok: false, error: firstLine(error) }
  }
}

function toView(
  chain: SsoChainConfig,
  found: { id: Hex; spec: SessionSpec; block: bigint; tx: Hex },
  state: SessionState,
  now: number,
): AccountSession {
  const { spec } = found
  const unitOf = (target: Address): Unit | undefined =>
    chain.tokens.find((t) => isAddressEqual(t.address, target))
  const nameOf = (target: Address) => unitOf(target)?.symbol ?? shortHex(target)
  const policies: string[] = []
  const limits: SessionLimitView[] = [limitView('Gas fees', spec.feeLimit, state.feeRemaining, eth, now)]
  spec.callPolicies.forEach((p, i) => {
    const selector = p.selector.toLowerCase()
    const fn = selectorNames.get(selector) ?? selector
    const token = unitOf(p.target)
    const parts = [`Call ${fn} on ${nameOf(p.target)}`]
    const info = Object.values(tokenSelectors).find((t) => t.selector === selector)
    for (const c of p.constraints) {
      if (c.condition === 'unconstrained') continue
      parts.push(constraintWords(p, c, token))
    }
    if (p.maxValuePerUse > 0n) parts.push(`up to ${formatAmount(p.maxValuePerUse, 18, 'ETH')} per call`)
    else parts.push('no ETH')
    policies.push(parts.join(', '))
    if (p.maxValuePerUse > 0n)
      limits.push(
        limitView(
          `ETH sent with ${fn} on ${nameOf(p.target)}`,
          p.valueLimit,
          state.callPolicies[i]?.valueRemaining,
          eth,
          now,
        ),
      )
    p.constraints.forEach((c, j) => {
      if (c.limit.type === 'unlimited') return
      const isAmount = info && c.index === info.amountIndex
      const unit = isAmount && token ? token : { symbol: '', decimals: 0 }
      const label = isAmount
        ? `${token?.symbol ?? 'Amount'} sent with ${fn}`
        : `Argument ${c.index} of ${fn} on ${nameOf(p.target)}`
      limits.push(limitView(label, c.limit, state.callPolicies[i]?.constraintRemaining[j], unit, now))
    })
  })
  spec.transferPolicies.forEach((p, i) => {
    policies.push(
      `Send ETH to ${shortHex(p.target)}, up to ${formatAmount(p.maxValuePerUse, 18, 'ETH')} per transfer`,
    )
    limits.push(
      limitView(`ETH to ${shortHex(p.target)}`, p.valueLimit, state.transferValueRemaining[i], eth, now),
    )
  })
  const status = state.status === 'active' && now > spec.expiresAt ? 'expired' : state.status
  return {
    chainId: chain.id,
    chainName: chain.name,
    id: found.id,
    spec,
    status: status as AccountSession['status'],
    createdBlock: found.block,
    createdTx: found.tx,
    policies,
    limits,
    state,
  }
}

/** The name of a call policy's function: `transfer` for the token selectors we know, else the selector. */
export function functionNameOf(selector: Hex): string {
  return selectorNames.get(selector.toLowerCase()) ?? selector.toLowerCase()
}

/**
 * A constraint of a call policy in words: `amount at most 10 DUSD`, `recipient must be 0x1234…abcd`,
 * `argument 2 below 5` (token amounts in the token's units when `token` is known).
 */
export function constraintWords(
  policy: SessionSpec['callPolicies'][number],
  constraint: SessionSpec['callPolicies'][number]['constraints'][number],
  token: Unit | undefined,
): string {
  const info = Object.values(tokenSelectors).find((t) => t.selector === policy.selector.toLowerCase())
  const isAmount = info && constraint.index === info.amountIndex
  const isRecipient = info && constraint.index === info.recipientIndex
  const ref = BigInt(constraint.refValue)
  const value = isRecipient
    ? shortHex(getAddress(pad(numberToHex(ref), { size: 20 })))
    : isAmount && token
      ? formatAmount(ref, token.decimals, token.symbol)
      : ref.toString()
  const what = isRecipient ? 'recipient' : isAmount ? 'amount' : `argument ${constraint.index}`
  return `${what} ${conditionWords[constraint.condition] ?? constraint.condition} ${value}`
}

const conditionWords: Record<string, string> = {
  equal: 'must be',
  notEqual: 'must not be',
  greater: 'above',
  greaterOrEqual: 'at least',
  less: 'below',
  lessOrEqual: 'at most',
}

/**
 * A limit in words: `0.4 ETH left of 1 ETH per 1 h` (and when the period resets), `1 ETH left of 1 ETH over the
 * session`, `no limit`.
 */
export function limitView(
  label: string,
  limit: UsageLimit,
  remaining: bigint | undefined,
  unit: Unit,
  now: number,
): SessionLimitView {
  const amount = (v: bigint) => formatAmount(v, unit.decimals, unit.symbol)
  if (limit.type === 'unlimited') return { label, text: 'no limit', resetsAt: undefined, left: undefined }
  const max = limit.limit
  const left = remaining === undefined ? max : remaining > max ? max : remaining
  const share = max === 0n ? 0 : Number((left * 10_000n) / max) / 10_000
  if (limit.type === 'lifetime')
    return {
      label,
      text: `${amount(left)} left of ${amount(max)} over the session`,
      resetsAt: undefined,
      left: share,
    }
  const period = limit.period
  const resetsAt = (Math.floor(now / period) + 1) * period
  return {
    label,
    text: `${amount(left)} left of ${amount(max)} per ${formatDuration(period)}`,
    resetsAt,
    left: share,
  }
}
