import * as v from 'valibot'
import { type Address, type Hex, http } from 'viem'
import { createPaymasterClient, type PaymasterClient } from 'viem/account-abstraction'
import { defaultPermissionFeeLimit } from './Erc7715.js'
import { BaseError, InvalidParamsError, UnauthorizedError } from './Errors.js'
import { allowancePeriods, createNearlyUsedNotifier } from './internal/nearlyUsed.js'
import { createSessionChains } from './internal/sessionChains.js'
import { createSessionRecords, type SessionRecord } from './internal/sessionRecords.js'
import { SessionSpec as SessionSpecSchema, type SessionSpecWire } from './RpcSchema.js'
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
import {
  canUseWebCryptoKeys,
  createIdbKeyStore,
  createMemoryKeyStore,
  createP256SessionSigner,
  createSecp256k1SessionSigner,
  loadSessionSigner,
  type SessionKeyStore,
  type SessionSigner,
} from './SessionSigner.js'
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

// The dapp's request: a spec without signer; amounts may be bigints (the helpers) or quantities.
const GrantRequest = v.object({
  /** Only for a key the dapp holds elsewhere (a backend): the manager then can't send with the session. */
  signer: v.optional(v.string()),
  expiresAt: v.number(),
  feeLimit: v.unknown(),
  callPolicies: v.optional(v.array(v.unknown())),
  transferPolicies: v.optional(v.array(v.unknown())),
})

function bigintToQuantity(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x)),
  ) as unknown
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
  const keyType = options.keyType ?? (canUseWebCryptoKeys() ? 'p256' : 'secp256k1')
  const keyStore =
    options.keyStore ??
    (keyType === 'p256' && canUseWebCryptoKeys() ? createIdbKeyStore() : createMemoryKeyStore())
  const storageKey = `${options.storageKey ?? 'sso'}.sessions`
  const threshold = options.nearlyUsedThreshold ?? 0.1

  let host: Parameters<SessionHandler['attach']>[0] | undefined
  let next: SessionSigner | undefined
  let preparing: Promise<void> | undefined
  const signers = new Map<string, SessionSigner>()
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

  function prepareKey(): Promise<void> {
    preparing ??= (async () => {
      next =
        keyType === 'p256'
          ? await createP256SessionSigner({ store: keyStore })
          : await createSecp256k1SessionSigner({ store: keyStore })
    })().finally(() => {
      preparing = undefined
    })
    return preparing
  }
  void prepareKey().catch(() => {})

  function current(account: Address, chainId: number): SessionRecord | undefined {
    return records
      .filter((r) => r.chainId === chainId && r.account.toLowerCase() === account.toLowerCase())
      .at(-1)
  }

  function drop(record: SessionRecord, event: 'sessionExpired' | 'sessionRevoked' | undefined) {
    records = records.filter((r) => r !== record)
    persist()
    void keyStore.delete(record.keyId).catch(() => {})
    signers.delete(record.keyId)
    if (event)
      host?.emit(event, { sessionId: record.sessionId, account: record.account, chainId: record.chainId })
  }

  async function signerOf(record: SessionRecord): Promise<SessionSigner> {
    const cached = signers.get(record.keyId)
    if (cached) return cached
    const loaded = await loadSessionSigner({ store: keyStore, id: record.keyId })
    if (!loaded)
      throw new UnauthorizedError('The session key is gone from this browser: request a new session.')
    signers.set(record.keyId, loaded)
    return loaded
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
    signer: (record) => signerOf(record as SessionRecord),
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
      const parsed = v.safeParse(GrantRequest, bigintToQuantity(request))
      if (!parsed.success)
        throw new InvalidParamsError('Invalid wallet_grantPermissions request.', {
          details: v.summarize(parsed.issues),
        })
      const external = parsed.output.signer
      const signer = external === undefined ? next : undefined
      if (!signer && external === undefined)
        throw new BaseError(
          'The session key is still being created: await session.ready() before requesting a session.',
        )
      const wire = v.safeParse(SessionSpecSchema, {
        callPolicies: [],
        transferPolicies: [],
        ...parsed.output,
        signer: external ?? signer?.publicKey,
      })
      if (!wire.success)
        throw new InvalidParamsError('Invalid session spec.', { details: v.summarize(wire.issues) })
      const spec = sessionSpecFromWire(wire.output)
      validateSessionSpec(spec, { now: options.clock?.(), account, bannedTargets: banned(chainId) })
      if (signer) {
        // The key is taken now; the next request gets a fresh one.
        next = undefined
        void prepareKey().catch(() => {})
      }
      return {
        params: [{ spec: wire.output, ...(account ? { address: account } : {}) }],
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
          signers.set(signer.id, signer)
          if (options.estimateAfterGrant !== false) sender.warm(record)
          return answer
        },
      }
    },

    prepareRevoke(request, { account, chainId }) {
      const parsed = v.safeParse(
        v.optional(v.union([v.object({ id: v.string() }), v.object({ all: v.literal(true) }), v.object({})])),
        request,
      )
      if (!parsed.success)
        throw new InvalidParamsError(
          'Invalid wallet_revokePermissions request: pass { id }, { all: true } or nothing.',
        )
      const input = parsed.output ?? {}
      const own = current(account, chainId)
      const params: [{ id: Hex } | { all: true }] =
        'all' in input
          ? [{ all: true }]
          : 'id' in input
            ? [{ id: input.id as Hex }]
            : own
              ? [{ id: own.sessionId }]
              : (() => {
                  throw new InvalidParamsError('There is no session to revoke.')
                })()
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

    async ready() {
      if (next) return
      await prepareKey()
    },

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
