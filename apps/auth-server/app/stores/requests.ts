import { createPopupMessenger, Errors, type PopupMessenger, type RpcSchema } from '@sso/client/popup'
import { defineStore } from 'pinia'
import type { Address } from 'viem'
import { recordAppConnected } from '~/lib/appRecords'
import { approveRequest } from '~/lib/approvals'
import type { SsoChainConfig } from '~/lib/config'
import { recordConnection } from '~/lib/connections'
import { moduleChangeRefusal } from '~/lib/modules'
import {
  callsOf,
  capabilitiesOf,
  errorOf,
  moduleActionOf,
  type PopupRequest,
  RequesterGoneError,
  refusalOf,
} from '~/lib/popupRequest'
import { gasPayer, type PreparedCalls, prepareCalls } from '~/lib/userOperations'
import { useAccountStore } from './account'
import { useConfigStore } from './config'

/** A request the popup holds until the user approves or rejects it. */
export type PendingRequest = {
  request: PopupRequest
  /** `working` while the passkey / bundler step runs. */
  state: 'pending' | 'working'
  /** What the approval is doing now, for display. */
  step: string
  /**
   * The last failure, shown to the user; the request stays pending (retry, reject or report it). `onScreen`: the
   * request's screen already shows its message (only the verdict and the way out are added below it).
   */
  error: { code: number; message: string; data?: unknown; onScreen?: boolean } | undefined
  /** The dapp that asked went away while this request was working: stop before the passkey signs. */
  cancelled?: boolean
  /** The chain refuses this request whatever the user does (e.g. the last signing validator): no Approve. */
  refused?: boolean
}

// The messenger is not reactive state: one per popup window.
let messenger: PopupMessenger | undefined
// Transactions built while their screen is read (`prepareCalls`), by request id: Approve then only signs and sends.
// Undefined when building failed; `sendCalls` builds again and shows why.
const preparing = new Map<string, Promise<PreparedCalls | undefined>>()

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

    /** The typed error of a request that can't be served at all ({@link refusalOf}), or undefined. */
    check(request: PopupRequest): Errors.RpcError | undefined {
      return refusalOf(request, {
        configError: useConfigStore().error,
        chain: this.chainOf(request),
        account: useAccountStore().account,
      })
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
        this.recordConnected(address)
        messenger?.respond(request, { accounts: [address], chainId: request.chainId })
      }
    },

    /** Remembers that the requesting app is connected to `address` (the dashboard's apps and the connect screen). */
    recordConnected(address: Address) {
      if (!this.origin) return
      recordConnection(this.origin, address)
      recordAppConnected(this.origin, address)
    },

    /** Approves the current screen's request: signs with the passkey and answers ({@link approveRequest}). */
    approve(id: string) {
      return this.run(id, async (entry, chain) => {
        // The account may have changed since the request arrived (log-out / log-in in this popup).
        const refused = this.check(entry.request)
        if (refused) throw refused
        const prepared = preparing.get(id)
        preparing.delete(id)
        return approveRequest(entry.request, {
          entry,
          chain,
          origin: this.origin,
          messenger,
          prepared,
          guard: () => this.guard(entry),
          connect: () => this.connectAnswer(entry),
          recordConnected: (address) => this.recordConnected(address),
        })
      })
    },
  },
})
