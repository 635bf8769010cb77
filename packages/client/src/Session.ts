import { type Address, type Hex, http } from 'viem'
import { createPaymasterClient, type PaymasterClient } from 'viem/account-abstraction'
import { defaultPermissionFeeLimit } from './Erc7715.js'
import { BaseError, UnauthorizedError } from './Errors.js'
import { allowancePeriods, createNearlyUsedNotifier } from './internal/nearlyUsed.js'
import { createSessionChains } from './internal/sessionChains.js'
import { createSessionKeys } from './internal/sessionKeys.js'
import { createSessionRecords, type SessionRecord } from './internal/sessionRecords.js'
import { grantSpecWire, parseGrantRequest, parseRevokeRequest } from './internal/sessionRequests.js'
import type { SessionSpecWire } from './RpcSchema.js'
import { getSessionState as readSessionState } from './SessionAccount.js'
import type { SessionEvents, SessionHandler } from './SessionHandler.js'
import {
  checkSessionCalls,
  type SessionCall,
  SessionPolicyError,
  type SessionPolicyViolation,
  type SessionState,
} from './SessionPolicy.js'
import { createSessionSender, type PaymasterService } from './SessionSend.js'
import type { SessionKeyStore } from './SessionSigner.js'
import { sessionSpecFromWire } from './SessionSpec.js'
import { validateSessionSpec } from './SessionSpecValidation.js'

export type SessionManagerOptions = {
  /** What to do with a transaction outside the session's policy: ask the user in the popup (default) or fail. */
  onOutOfPolicy?: 'popup' | 'fail' | undefined
  /** Key type: `p256` (WebCrypto, default in browsers) or `secp256k1` (default elsewhere). */
  keyType?: 'p256' | 'secp256k1' | undefined
  /** Where keys live: IndexedDB in browsers (default), memory elsewhere. */
  keyStore?: SessionKeyStore | undefined
  /** Where the session records (spec, account, key id; no key material) live. Default `localStorage`. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined
  storageKey?: string | undefined
  /** SessionKeyValidator per chain id (default: the `@sso/contracts-abi` manifest address). */
  validators?: Record<number, Address> | undefined
  /**
   * More targets no session may call, per chain: modules the account installed beyond those every account is
   * created with (the SessionKeyValidator, and the WebAuthnValidator and GuardianExecutor of the manifest).
   */
  bannedTargets?: Record<number, readonly Address[]> | undefined
  /** Who pays session userOps: the account (default, counted against `feeLimit`) or a paymaster. */
  paymaster?: { address: Address } | { url: string } | undefined
  /**
   * The chain's current time in unix seconds for validating a new spec's expiry before the popup opens (it must
   * be synchronous). Default: the system clock. A devnet with time travel passes its latest block time.
   */
  clock?: (() => number | undefined) | undefined
  /** `sessionLimitNearlyUsed` fires when less than this share of a limit is left. Default 0.1. */
  nearlyUsedThreshold?: number | undefined
  /**
   * Session transactions of one account in flight at once, each on its own nonce key; more wait in line.
   * Default 8 (bundlers limit the userOps of one sender in their mempool: Alto's default is 10).
   */
  maxParallelSends?: number | undefined
  /**
   * Estimate the gas of the session's transfer policies right after a grant, so that its first transfer sends
   * without an estimate round trip. Default true.
   */
  estimateAfterGrant?: boolean | undefined
  /**
   * Gas (wei) the account may pay over the life of a session made from ERC-7715 permissions
   * (`wallet_requestExecutionPermissions`), which name no fee limit. Default 0.01 ETH.
   */
  permissionFeeLimit?: bigint | undefined
}

export type { SessionRecord }

/** The session manager: a {@link SessionHandler} for the provider plus dapp-facing reads. */
export type SessionManager = SessionHandler & {
  /** Resolves once the next session key is created (the provider needs it synchronously on click). */
  ready(): Promise<void>
  /** The current session of the account on the chain (most recent), if any. */
  current(account: Address, chainId: number): SessionRecord | undefined
  /** Reads the validator: status and remaining limits in the current period; emits the session events. */
  getSessionState(parameters?: {
    account?: Address
    chainId?: number
  }): Promise<SessionState & { sessionId: Hex }>
  /** The records this dapp holds. */
  list(): readonly SessionRecord[]
}

/**
 * Creates the session manager.
 *
 * @example
 * ```ts
 * import { createProvider } from '@sso/client'
 * import { createSessionManager } from '@sso/client/session'
 * const session = createSessionManager({ onOutOfPolicy: 'fail' })
 * const provider = createProvider({ authServerUrl, chains, session })
 * ```
 */
export function createSessionManager(options: SessionManagerOptions = {}): SessionManager {
  const onOutOfPolicy = options.onOutOfPolicy ?? 'popup'
  const keys = createSessionKeys(options)
  const storageKey = `${options.storageKey ?? 'sso'}.sessions`
  const threshold = options.nearlyUsedThreshold ?? 0.1

  let host: Parameters<SessionHandler['attach']>[0] | undefined
  // What the chain last said of each session's remaining limits (read before every send and after every
  // inclusion), and when: `send` checks against it synchronously, so an out-of-policy fallback opens its popup
  // inside the user's gesture (docs/architecture.md, section 5).
  const known = new Map<string, { state: SessionState; at: number }>()
  const stored = createSessionRecords(options.storage, storageKey)
  let records = stored.restore()
  const persist = () => stored.persist(records)
  const { validatorOf, banned, chainOf, clientsOf } = createSessionChains({
    host: () => host,
    validators: options.validators,
    bannedTargets: options.bannedTargets,
  })
  const emitNearlyUsed = createNearlyUsedNotifier(threshold, (event) =>
    host?.emit('sessionLimitNearlyUsed', event),
  )

  function current(account: Address, chainId: number): SessionRecord | undefined {
    return records
      .filter((r) => r.chainId === chainId && r.account.toLowerCase() === account.toLowerCase())
      .at(-1)
  }

  function drop(record: SessionRecord, event: 'sessionExpired' | 'sessionRevoked' | undefined) {
    records = records.filter((r) => r !== record)
    persist()
    keys.drop(record.keyId)
    if (event)
      host?.emit(event, { sessionId: record.sessionId, account: record.account, chainId: record.chainId })
  }

  async function readState(record: SessionRecord): Promise<SessionState> {
    const { client } = clientsOf(record.chainId)
    const state = await readSessionState({
      client,
      validator: validatorOf(record.chainId),
      account: record.account,
      spec: record.spec,
    })
    if (state.status === 'expired') drop(record, 'sessionExpired')
    else if (state.status === 'revoked') drop(record, 'sessionRevoked')
    known.set(record.sessionId, { state, at: clockNow() })
    return state
  }

  // The chain's time as the dapp knows it (`clock`), else the wall clock.
  function clockNow(): number {
    return Math.floor(options.clock?.() ?? Date.now() / 1000)
  }

  /** The last state read, while no allowance period of the spec has turned since (else its amounts are stale). */
  function knownState(record: SessionRecord): SessionState | undefined {
    const entry = known.get(record.sessionId)
    if (entry?.state.status !== 'active') return undefined
    const now = clockNow()
    const turned = allowancePeriods(record.spec).some(
      (period) => Math.floor(now / period) !== Math.floor(entry.at / period),
    )
    return turned ? undefined : entry.state
  }

  function paymasterClient(): PaymasterClient | undefined {
    const pm = options.paymaster
    if (!pm) return undefined
    if ('url' in pm) return createPaymasterClient({ transport: http(pm.url) })
    const data = { paymaster: pm.address, paymasterData: '0x' as Hex }
    return {
      getPaymasterStubData: async () => ({ ...data }),
      getPaymasterData: async () => ({ ...data }),
    } as unknown as PaymasterClient
  }

  const sender = createSessionSender({
    clients: clientsOf,
    urls: (chainId) => chainOf(chainId),
    readState: (record) => readState(record as SessionRecord),
    signer: (record) => keys.signerOf((record as SessionRecord).keyId),
    validator: validatorOf,
    banned,
    paymaster: paymasterClient,
    onIncluded: (record) =>
      void readState(record as SessionRecord)
        .then((s) => emitNearlyUsed(record as SessionRecord, s))
        .catch(() => {}),
    maxParallel: options.maxParallelSends ?? 8,
  })

  async function sendWithSession(
    record: SessionRecord,
    calls: readonly SessionCall[],
    wait: boolean,
    fallback: () => Promise<unknown>,
    service: PaymasterService | undefined,
  ): Promise<{ userOpHash: Hex; transactionHash?: Hex }> {
    const sent = await sender.send(record, calls, wait, service)
    if ('violation' in sent) return outOfPolicy(sent.violation, fallback)
    return sent
  }

  async function outOfPolicy(
    violation: SessionPolicyViolation,
    fallback: () => Promise<unknown>,
  ): Promise<never> {
    if (
      onOutOfPolicy === 'popup' &&
      !['session-expired', 'session-revoked', 'session-not-active'].includes(violation.rule)
    )
      throw new FallbackSignal(fallback())
    throw new SessionPolicyError(violation)
  }

  const manager: SessionManager = {
    attach(next) {
      host = next
    },
    validatorOf,
    permissionFeeLimit: options.permissionFeeLimit ?? defaultPermissionFeeLimit,

    prepareGrant(request, { account, chainId }) {
      const grant = parseGrantRequest(request)
      const external = grant.signer
      const signer = external === undefined ? keys.next() : undefined
      if (!signer && external === undefined)
        throw new BaseError(
          'The session key is still being created: await session.ready() before requesting a session.',
        )
      const wire = grantSpecWire(grant, external ?? signer?.publicKey)
      const spec = sessionSpecFromWire(wire)
      validateSessionSpec(spec, { now: options.clock?.(), account, bannedTargets: banned(chainId) })
      if (signer) keys.take(signer)
      return {
        params: [{ spec: wire, ...(account ? { address: account } : {}) }],
        async finish(result) {
          const answer = {
            sessionId: result.sessionId,
            account: result.account,
            chainId: result.chainId,
            expiresAt: spec.expiresAt,
            signer: { type: signer?.kind ?? 'external', publicKey: spec.signer },
            transactionHash: result.transactionHash,
          }
          if (!signer) return answer
          const record: SessionRecord = {
            sessionId: result.sessionId,
            account: result.account,
            chainId: result.chainId,
            spec,
            keyId: signer.id,
          }
          records.push(record)
          persist()
          keys.keep(signer)
          if (options.estimateAfterGrant !== false) sender.warm(record)
          return answer
        },
      }
    },

    prepareRevoke(request, { account, chainId }) {
      const params: [{ id: Hex } | { all: true }] = [
        parseRevokeRequest(request, current(account, chainId)?.sessionId),
      ]
      return {
        params,
        async finish(result) {
          const which = params[0]
          for (const record of [...records])
            if (
              record.account.toLowerCase() === account.toLowerCase() &&
              record.chainId === chainId &&
              ('all' in which || record.sessionId.toLowerCase() === which.id.toLowerCase())
            )
              drop(record, 'sessionRevoked')
          return result
        },
      }
    },

    has(account, chainId) {
      return current(account, chainId) !== undefined
    },

    send({ account, chainId, calls, wait, paymasterService }, fallback) {
      const record = current(account, chainId)
      if (!record) return { popup: fallback() }
      // Plainly outside the spec: decide now, so the popup opens inside the click (browsers refuse a window
      // opened after an await). Expiry needs the chain's time: checked after reading it.
      const violation = checkSessionCalls(record.spec, calls, {
        account,
        now: 0,
        bannedTargets: banned(chainId),
      })
      if (violation) {
        if (onOutOfPolicy === 'popup' && violation.rule !== 'session-expired') return { popup: fallback() }
        return { session: Promise.reject(new SessionPolicyError(violation)) }
      }
      // Past what the chain last said is left: the fallback popup opens now, inside the click. Only to open the
      // popup - a failure ("fail") waits for the chain's own word, as do amounts other senders spent since.
      const last = onOutOfPolicy === 'popup' ? knownState(record) : undefined
      if (
        last &&
        checkSessionCalls(record.spec, calls, {
          account,
          now: 0,
          state: last,
          bannedTargets: banned(chainId),
        })
      )
        return { popup: fallback() }
      return {
        session: sendWithSession(record, calls, wait, fallback, paymasterService).catch(
          async (error: unknown) => {
            if (error instanceof FallbackSignal) return { fallback: await error.result }
            throw error
          },
        ),
      }
    },

    forget(account) {
      for (const record of [...records])
        if (account === undefined || record.account.toLowerCase() === account.toLowerCase())
          drop(record, undefined)
    },

    ready: keys.ready,

    current,

    async getSessionState(parameters = {}) {
      const record = parameters.account
        ? current(parameters.account, parameters.chainId ?? records.at(-1)?.chainId ?? 0)
        : records.at(-1)
      if (!record)
        throw new UnauthorizedError('There is no session: request one with wallet_grantPermissions.')
      const state = await readState(record)
      if (state.status === 'active') emitNearlyUsed(record, state)
      return { ...state, sessionId: record.sessionId }
    },

    list() {
      return [...records]
    },
  }
  return manager
}

// The popup fallback result travels through the session promise (so the provider returns it as is).
class FallbackSignal extends Error {
  constructor(readonly result: Promise<unknown>) {
    super('fallback')
  }
}

export type { SessionEvents, SessionSpecWire }
