import { createPopupMessenger, Errors, type PopupMessenger, RpcSchema } from '@sso/client/popup'
import { defineStore } from 'pinia'
import type { Hex, TypedDataDefinition } from 'viem'
import { isAccount } from '~/lib/account'
import { recordAppConnected, recordAppSession, recordAppUserOp } from '~/lib/appRecords'
import type { SsoChainConfig } from '~/lib/config'
import { recordConnection } from '~/lib/connections'
import { moduleChangeCall, moduleChangeRefusal } from '~/lib/modules'
import { chainNow, checkSpec, createSession, revokeSession, sessionApproval } from '~/lib/sessions'
import {
  gasPayer,
  type PreparedCalls,
  prepareCalls,
  sendCalls,
  waitForUserOperation,
} from '~/lib/userOperations'
import { useAccountStore } from './account'
import { useConfigStore } from './config'

type PopupRequest = RpcSchema.PopupRequest

/** A request the popup holds until the user approves or rejects it. */
export type PendingRequest = {
  request: PopupRequest
  /** `working` while the passkey / bundler step runs. */
  state: 'pending' | 'working'
  /** What the approval is doing now, for display. */
  step: string
  /** The last failure, shown to the user; the request stays pending (retry, reject or report it). */
  error: { code: number; message: string; data?: unknown } | undefined
  /** The dapp that asked went away while this request was working: stop before the passkey signs. */
  cancelled?: boolean
  /** The chain refuses this request whatever the user does (e.g. the last signing validator): no Approve. */
  refused?: boolean
}

/** The module change of a `wallet_installModule` / `wallet_uninstallModule` request. */
export function moduleActionOf(request: PopupRequest): 'install' | 'uninstall' | undefined {
  if (request.method === 'wallet_installModule') return 'install'
  if (request.method === 'wallet_uninstallModule') return 'uninstall'
  return undefined
}

/** Thrown before the passkey signs a request whose dapp went away (docs/architecture.md, section 4). */
export class RequesterGoneError extends Errors.UserRejectedRequestError {
  constructor() {
    super('The app that asked went away (closed or reloaded); nothing was signed.')
  }
}

// The messenger is not reactive state: one per popup window.
let messenger: PopupMessenger | undefined
// Transactions built while their screen is read (`prepareCalls`), by request id: Approve then only signs and sends.
// Undefined when building failed; `sendCalls` builds again and shows why.
const preparing = new Map<string, Promise<PreparedCalls | undefined>>()

const knownCapabilities = new Set(['paymasterService', 'atomic'])

function errorOf(error: unknown): { code: number; message: string; data?: unknown } {
  const serialized = Errors.serializeError(error)
  return {
    code: serialized.code,
    message: serialized.message,
    ...(serialized.data !== undefined ? { data: serialized.data } : {}),
  }
}

function hexToBigInt(value: Hex | undefined): bigint {
  return value === undefined ? 0n : BigInt(value)
}

/** The calls of a transaction request (`eth_sendTransaction` or `wallet_sendCalls`). */
export function callsOf(request: PopupRequest): { to: `0x${string}`; data?: Hex; value: bigint }[] {
  if (request.method === 'eth_sendTransaction') {
    const [tx] = request.params
    const data = tx.data ?? tx.input
    return [{ to: tx.to, ...(data ? { data } : {}), value: hexToBigInt(tx.value) }]
  }
  if (request.method === 'wallet_sendCalls')
    return request.params[0].calls.map((c) => ({
      to: c.to,
      ...(c.data ? { data: c.data } : {}),
      value: hexToBigInt(c.value),
    }))
  return []
}

/** The capabilities of a transaction request. */
export function capabilitiesOf(request: PopupRequest): Record<string, unknown> | undefined {
  if (request.method === 'eth_sendTransaction') return request.params[1]
  if (request.method === 'wallet_sendCalls') return request.params[0].capabilities
  return undefined
}

/** Typed data as viem takes it: `EIP712Domain` comes from `domain`, so a dapp-sent copy is dropped. */
export function typedDataOf(typedData: RpcSchema.TypedData): TypedDataDefinition {
  const { EIP712Domain: _, ...types } = typedData.types
  return {
    domain: typedData.domain as TypedDataDefinition['domain'],
    types,
    primaryType: typedData.primaryType,
    message: typedData.message,
  } as unknown as TypedDataDefinition
}

/**
 * The popup's request pipeline (docs/architecture.md, section 4): receives requests through the `@sso/client/popup` messenger,
 * answers requests that can't be served with typed errors, and runs the approved ones (passkey signature,
 * bundler) — one place for all of it; the pages only render `current` and call `approve` / `reject`.
 */
export const useRequestsStore = defineStore('requests', {
  state: () => ({
    /** The dapp origin, from `event.origin` of the first valid request (browser-provided). */
    origin: undefined as string | undefined,
    queue: [] as PendingRequest[],
    started: false,
    answered: 0,
    /** Whether the page was opened by a dapp (`window.opener`). */
    hasOpener: false,
    /** Requests cancelled because the dapp that asked went away (closed, reloaded or navigated). */
    cancelled: 0,
  }),
  getters: {
    current: (state): PendingRequest | undefined => state.queue[0],
  },
  actions: {
    /** Starts listening (once per window) and tells the opener the popup is ready. */
    start() {
      if (this.started) return
      this.started = true
      this.hasOpener = Boolean(window.opener)
      messenger = createPopupMessenger()
      messenger.onRequest((request, { origin }) => {
        this.origin = origin
        const refused = this.check(request)
        if (refused) {
          messenger?.reject(request, refused)
          this.answered++
          return
        }
        this.queue.push({ request, state: 'pending', step: '', error: undefined })
        void this.precheck(request.id)
      })
      messenger.onGone((gone) => this.requesterGone(gone))
    },

    /**
     * The dapp that asked is gone: nobody reads the answers of its requests any more. Waiting requests are
     * cancelled now; a working one stops before the passkey signs ({@link guard}). A request whose userOp was
     * already sent is left to finish: the dapp's client reads its result from the bundler.
     */
    requesterGone(gone: { reason: 'left'; client: string } | { reason: 'closed' }) {
      for (const entry of [...this.queue]) {
        const { client } = entry.request
        if (gone.reason === 'left' && client !== undefined && client !== gone.client) continue
        if (entry.state === 'working') {
          entry.cancelled = true
          continue
        }
        messenger?.reject(entry.request, new RequesterGoneError())
        this.queue = this.queue.filter((e) => e !== entry)
        this.cancelled++
      }
    },

    /** Throws before a passkey step when the dapp that asked went away. */
    guard(entry: PendingRequest) {
      if (entry.cancelled) throw new RequesterGoneError()
    },

    /**
     * Checks against the chain that can't be made synchronously: a module change the account would refuse is
     * shown as refused (no Approve); the user tells the app, which gets the typed error. Nothing is signed.
     */
    async precheck(id: string) {
      const entry = this.find(id)
      const action = entry && moduleActionOf(entry.request)
      const account = useAccountStore().account
      const chain = entry && this.chainOf(entry.request)
      if (entry && account && chain && !action) this.prepare(entry, chain)
      if (!entry || !action || !account || !chain) return
      const [change] = entry.request.params as [RpcSchema.ModuleChange]
      try {
        const refusal = await moduleChangeRefusal(chain, account.address, action, change)
        if (refusal && entry.state === 'pending') {
          entry.error = errorOf(refusal)
          entry.refused = true
        }
      } catch {
        // Unreadable now: the same check runs again on approval.
      }
    },

    /**
     * Starts building a transaction request's user operation (nonce, fees, gas, checks) while the user reads it,
     * so that Approve only asks for the passkey and sends (docs/architecture.md, section 6). Nothing is signed.
     */
    prepare(entry: PendingRequest, chain: SsoChainConfig) {
      const { request } = entry
      if (request.method !== 'eth_sendTransaction' && request.method !== 'wallet_sendCalls') return
      const accountStore = useAccountStore()
      preparing.set(
        request.id,
        accountStore.smartAccount(chain).then(
          (account) =>
            prepareCalls({
              chain,
              account,
              calls: callsOf(request),
              payer: gasPayer(chain, capabilitiesOf(request)),
              app: this.origin,
            }).catch(() => undefined),
          () => undefined,
        ),
      )
    },

    /** The configured chain of a request. */
    chainOf(request: PopupRequest): SsoChainConfig | undefined {
      return useConfigStore().chain(request.chainId)
    },

    /**
     * Requests that can't be served at all get a typed error right away (nothing to approve). Run when a request
     * arrives and again when it is approved. The popup never trusts the dapp's SDK: a page can post any message.
     */
    check(request: PopupRequest): Errors.RpcError | undefined {
      // A broken /sso-config.json must not make the popup act on fallback (devnet) addresses.
      const configError = useConfigStore().error
      if (configError) return new Errors.InternalError(`The SSO server is misconfigured: ${configError}`)
      // One chain per request: the chain shown is the chain the userOp is built for and the signature is valid on.
      const conflict = RpcSchema.findConflict(request)
      if (conflict) return conflict
      if (!this.chainOf(request))
        return request.method === 'wallet_sendCalls'
          ? new Errors.UnsupportedChainIdError(
              `Chain ${request.chainId} is not configured on this SSO server.`,
            )
          : new Errors.UnknownChainError(`Chain ${request.chainId} is not configured on this SSO server.`)
      if (request.method === 'eth_requestAccounts') return undefined
      if (request.method === 'wallet_grantPermissions') {
        // The account the dapp names must be the one that signs (it may be absent: sign-up in this popup).
        const named = request.params[0].address
        const address = useAccountStore().address
        if (named !== undefined && !isAccount(useAccountStore().account, named))
          return new Errors.UnauthorizedError(
            address
              ? `The request is for another account: params[0].address is ${named} but the logged-in SSO account is ${address}.`
              : `The request is for ${named} (params[0].address) but no SSO account is logged in: connect (eth_requestAccounts) first.`,
            { data: { reason: address ? 'another-account' : 'logged-out' } },
          )
        // Validated again here (never trust the dapp); the account may still be signing up in this popup.
        try {
          checkSpec(request.params[0].spec, {
            chain: this.chainOf(request)!,
            account: useAccountStore().address,
            now: 0, // expiry is checked against the chain's time on the screen and again on approval
          })
        } catch (error) {
          return error as Errors.RpcError
        }
        return undefined
      }
      const account = useAccountStore().account
      if (!account)
        return new Errors.UnauthorizedError(
          'No SSO account is logged in: connect (eth_requestAccounts) first.',
          // The dapp's client disconnects on this reason (docs/interfaces.md, "Account channel").
          { data: { reason: 'logged-out' } },
        )
      const [field, signer] =
        request.method === 'personal_sign'
          ? ['params[1]', request.params[1]]
          : request.method === 'eth_signTypedData_v4'
            ? ['params[0]', request.params[0]]
            : request.method === 'eth_sendTransaction'
              ? ['params[0].from', request.params[0].from]
              : request.method === 'wallet_sendCalls' ||
                  request.method === 'wallet_installModule' ||
                  request.method === 'wallet_uninstallModule'
                ? ['params[0].from', request.params[0].from]
                : ['', undefined]
      if (signer !== undefined && !isAccount(account, signer))
        return new Errors.UnauthorizedError(
          `The request is for another account: ${field} is ${signer} but the logged-in SSO account is ${account.address}.`,
          { data: { reason: 'another-account' } },
        )
      const capabilities = [
        capabilitiesOf(request),
        ...(request.method === 'wallet_sendCalls' ? request.params[0].calls.map((c) => c.capabilities) : []),
      ]
      for (const set of capabilities)
        for (const [name, value] of Object.entries(set ?? {}))
          if (!knownCapabilities.has(name) && !(value as { optional?: boolean }).optional)
            return new Errors.UnsupportedNonOptionalCapabilityError(
              `The capability "${name}" is not supported.`,
            )
      return undefined
    },

    find(id: string): PendingRequest | undefined {
      return this.queue.find((entry) => entry.request.id === id)
    },

    remove(id: string) {
      preparing.delete(id)
      this.queue = this.queue.filter((entry) => entry.request.id !== id)
      this.answered++
    },

    /** Rejects a request with 4001 (the user said no). */
    reject(id: string) {
      const entry = this.find(id)
      if (!entry || entry.state === 'working') return
      messenger?.reject(entry.request, new Errors.UserRejectedRequestError())
      this.remove(id)
    },

    /** Answers a request with the error shown on screen (the user gives up after a failure). */
    reportError(id: string) {
      const entry = this.find(id)
      if (!entry?.error || entry.state === 'working') return
      messenger?.reject(entry.request, entry.error)
      this.remove(id)
    },

    /**
     * Runs `work` for a pending request with progress and error handling: success answers the dapp, failure
     * is shown and the request stays pending.
     */
    async run(id: string, work: (entry: PendingRequest, chain: SsoChainConfig) => Promise<() => void>) {
      const entry = this.find(id)
      if (!entry || entry.state === 'working') return
      const chain = this.chainOf(entry.request)
      if (!chain) return
      entry.state = 'working'
      entry.error = undefined
      try {
        const answer = await work(entry, chain)
        answer()
        this.remove(id)
      } catch (error) {
        if (entry.cancelled) {
          messenger?.reject(entry.request, error)
          this.queue = this.queue.filter((e) => e !== entry)
          this.cancelled++
          return
        }
        entry.error = errorOf(error)
        entry.state = 'pending'
        entry.step = ''
      }
    },

    /** Signs up, then connects (the sign-up button says "and connect to <origin>"). */
    signUpAndConnect(id: string) {
      return this.run(id, async (entry, chain) => {
        entry.step = 'Creating your passkey, then deploying your account…'
        await useAccountStore().signUp(chain)
        return this.connectAnswer(entry)
      })
    },

    /** Logs in with a discoverable passkey, then connects. */
    logInAndConnect(id: string) {
      return this.run(id, async (entry, chain) => {
        entry.step = 'Waiting for your passkey…'
        await useAccountStore().logIn(chain)
        return this.connectAnswer(entry)
      })
    },

    connectAnswer(entry: PendingRequest): () => void {
      const address = useAccountStore().address
      if (!address || entry.request.method !== 'eth_requestAccounts')
        throw new Errors.InternalError('No account.')
      const { request } = entry
      return () => {
        if (this.origin) {
          recordConnection(this.origin, address)
          recordAppConnected(this.origin, address)
        }
        messenger?.respond(request, { accounts: [address], chainId: request.chainId })
      }
    },

    /** Approves the current screen's request: signs with the passkey and answers. */
    approve(id: string) {
      return this.run(id, async (entry, chain) => {
        const { request } = entry
        // The account may have changed since the request arrived (log-out / log-in in this popup).
        const refused = this.check(request)
        if (refused) throw refused
        const accountStore = useAccountStore()
        switch (request.method) {
          case 'eth_requestAccounts':
            return this.connectAnswer(entry)
          case 'wallet_showCallsStatus':
            return () => messenger?.respond(request, null)
          case 'personal_sign': {
            entry.step = 'Waiting for your passkey…'
            const account = await accountStore.smartAccount(chain)
            this.guard(entry)
            const signature = await account.signMessage({ message: { raw: request.params[0] } })
            return () => messenger?.respond(request, signature)
          }
          case 'eth_signTypedData_v4': {
            entry.step = 'Waiting for your passkey…'
            const account = await accountStore.smartAccount(chain)
            this.guard(entry)
            const signature = await account.signTypedData(typedDataOf(request.params[1]))
            return () => messenger?.respond(request, signature)
          }
          case 'wallet_grantPermissions': {
            if (!accountStore.account)
              throw new Errors.UnauthorizedError('Sign up or log in first: no SSO account in this popup.')
            if (sessionApproval.needsAck && !sessionApproval.ack)
              throw new Errors.InvalidParamsError('Tick the acknowledgement box to allow this session.')
            const spec = checkSpec(request.params[0].spec, {
              chain,
              account: accountStore.account.address,
              now: await chainNow(chain),
            })
            const account = await accountStore.smartAccount(chain)
            entry.step = 'Waiting for your passkey…'
            this.guard(entry)
            const created = await createSession({
              chain,
              account,
              spec,
              onSending: (userOpHash, sessionId, signed) => {
                if (this.origin) {
                  recordAppSession(this.origin, account.address, chain.id, sessionId)
                  recordAppUserOp(this.origin, account.address, chain.id, userOpHash)
                }
                messenger?.submitted(request, { userOpHash, account: account.address, sessionId, ...signed })
              },
            })
            const result = { ...created, account: account.address, chainId: chain.id }
            return () => {
              if (this.origin) {
                recordConnection(this.origin, account.address)
                recordAppConnected(this.origin, account.address)
              }
              messenger?.respond(request, result)
            }
          }
          case 'wallet_revokePermissions': {
            const account = await accountStore.smartAccount(chain)
            entry.step = 'Waiting for your passkey…'
            this.guard(entry)
            const result = await revokeSession({
              chain,
              account,
              which: request.params[0],
              onSending: (userOpHash, signed) => {
                if (this.origin) recordAppUserOp(this.origin, account.address, chain.id, userOpHash)
                messenger?.submitted(request, { userOpHash, account: account.address, ...signed })
              },
            })
            return () => messenger?.respond(request, result)
          }
          case 'wallet_installModule':
          case 'wallet_uninstallModule': {
            const action = request.method === 'wallet_installModule' ? 'install' : 'uninstall'
            const [change] = request.params
            const account = await accountStore.smartAccount(chain)
            entry.step = 'Checking the module…'
            const refusal = await moduleChangeRefusal(chain, account.address, action, change)
            if (refusal) {
              entry.refused = true
              throw refusal
            }
            const hash = await sendCalls({
              chain,
              account,
              calls: [moduleChangeCall(action, account.address, change)],
              payer: gasPayer(chain),
              onSign: () => {
                this.guard(entry)
                entry.step = 'Waiting for your passkey…'
              },
            })
            messenger?.submitted(request, { userOpHash: hash, account: account.address })
            entry.step = 'Waiting for the transaction…'
            const receipt = await waitForUserOperation(chain, hash)
            return () => messenger?.respond(request, { transactionHash: receipt.receipt.transactionHash })
          }
          case 'eth_sendTransaction':
          case 'wallet_sendCalls': {
            // `chain` is the request's chain, the one on screen; `check` made sure the params name no other.
            const account = await accountStore.smartAccount(chain)
            entry.step = 'Checking the transaction…'
            // Built while the screen was read; a failed or stale one is built again (and its error shown).
            const ready = preparing.get(request.id)
            preparing.delete(request.id)
            const hash = await sendCalls(
              {
                chain,
                account,
                calls: callsOf(request),
                payer: gasPayer(chain, capabilitiesOf(request)),
                app: this.origin,
                onSign: () => {
                  this.guard(entry)
                  entry.step = 'Waiting for your passkey…'
                },
                // Signed and about to be sent: from now on the dapp gets the result even if this window closes
                // mid-request (docs/architecture.md, section 4).
                onSending: (userOpHash, signed) => {
                  if (this.origin) recordAppUserOp(this.origin, account.address, chain.id, userOpHash)
                  messenger?.submitted(request, { userOpHash, account: account.address, ...signed })
                },
              },
              ready,
            )
            if (request.method === 'wallet_sendCalls') return () => messenger?.respond(request, { id: hash })
            entry.step = 'Waiting for the transaction…'
            const receipt = await waitForUserOperation(chain, hash)
            return () => messenger?.respond(request, receipt.receipt.transactionHash)
          }
        }
        throw new Errors.MethodNotFoundError(
          `The popup does not handle "${(request as { method: string }).method}".`,
        )
      })
    },
  },
})
