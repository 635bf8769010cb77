/**
 * Both ends of the popup `postMessage` channel (docs/architecture.md, section 4).
 *
 * Handshake — every post names an explicit `targetOrigin`, never `'*'`:
 * 1. The dapp opens `${authServerUrl}/confirm?origin=<dapp origin>` ({@link confirmUrl}).
 * 2. The popup posts `{ type: 'ready' }` to `window.opener` with `targetOrigin` = the `origin` URL param. If the
 *    param lies, the browser drops the message (it carries nothing secret), and the real opener never sends requests.
 * 3. The dapp (accepting only `event.origin === authServerOrigin && event.source === popup`) posts its requests
 *    with `targetOrigin = authServerOrigin`.
 * 4. The popup accepts messages only when `event.source === window.opener`, and learns the dapp origin ONLY from
 *    `event.origin` of the first valid request (browser-provided, unforgeable); later messages from another origin
 *    are ignored. Answers go to `window.opener` with `targetOrigin` = that learned origin.
 * 5. On `pagehide` the popup posts `{ type: 'closing' }`; the dapp also polls `popup.closed` (see Popup.ts).
 * 6. Once a request's userOp is signed, right before it goes to the bundler, the popup posts
 *    `{ type: 'submitted', id, userOpHash, account }`: from then on the dapp can finish the request without the popup.
 * 7. On `pagehide` the dapp posts `{ type: 'leaving', client }`; the popup also polls `window.opener.closed`.
 *    Either way the popup cancels the requests nobody will read the answer of ({@link PopupMessenger.onGone}).
 *
 * Messages that fail any check (wrong origin, wrong source, malformed, unknown or replayed id) are ignored and
 * never throw. A well-formed request envelope with an unknown method or bad params is answered with -32601 /
 * -32602 so the dapp does not wait for its timeout.
 */
import * as v from 'valibot'
import { InternalError, serializeError } from './Errors.js'
import {
  Closing,
  Leaving,
  PopupMessage,
  type PopupMessage as PopupMessageType,
  type PopupMethod,
  type PopupRequest,
  type PopupResult,
  parseRequest,
  parseResult,
  Ready,
  type Request,
  Submitted,
} from './RpcSchema.js'

/** The minimal window surface the messengers use (a real `Window` satisfies it; tests pass fakes). */
export type MessengerWindow = Pick<Window, 'addEventListener' | 'removeEventListener'>

/** The URL param that tells the popup where to send `{ type: 'ready' }`. */
export const originParam = 'origin'

/**
 * The popup URL: `${authServerUrl}/confirm?origin=<dapp origin>`.
 *
 * @example
 * ```ts
 * confirmUrl('http://localhost:3002', 'http://localhost:3001')
 * // 'http://localhost:3002/confirm?origin=http%3A%2F%2Flocalhost%3A3001'
 * ```
 */
export function confirmUrl(authServerUrl: string, dappOrigin: string): string {
  const url = new URL('confirm', authServerUrl.endsWith('/') ? authServerUrl : `${authServerUrl}/`)
  url.searchParams.set(originParam, dappOrigin)
  return url.toString()
}

// ---------------------------------------------------------------------------------------------------------------
// Dapp side

export type DappMessengerOptions = {
  /** Origin of the auth server; messages from any other origin are ignored. */
  authServerOrigin: string
  /** The popup currently open (or null). Messages whose `event.source` is not this window are ignored. */
  getPopup: () => Pick<Window, 'postMessage'> | null | undefined
  /** Called for every valid message from the popup. Exceptions thrown here are swallowed. */
  onMessage: (message: PopupMessageType) => void
  /** The dapp window (defaults to the global `window`). */
  window?: MessengerWindow | undefined
}

export type DappMessenger = {
  /** Posts a request (or `leaving`) to the popup (`targetOrigin` = auth server origin). False when no popup is open. */
  post(message: Request | Leaving): boolean
  /** Stops listening. */
  destroy(): void
}

/**
 * The dapp end: listens for popup messages and posts requests with an explicit `targetOrigin`.
 *
 * @example
 * ```ts
 * const messenger = createDappMessenger({
 *   authServerOrigin: 'http://localhost:3002',
 *   getPopup: () => popup,
 *   onMessage: (message) => console.log(message),
 * })
 * messenger.post({ id: crypto.randomUUID(), method: 'eth_requestAccounts', params: [], chainId: 31337 })
 * ```
 */
export function createDappMessenger(options: DappMessengerOptions): DappMessenger {
  const target = options.window ?? globalThis.window
  const authServerOrigin = new URL(options.authServerOrigin).origin

  const listener = (event: Event) => {
    try {
      const { data, origin, source } = event as MessageEvent
      if (origin !== authServerOrigin) return
      const popup = options.getPopup()
      if (!popup || source !== popup) return
      const parsed = v.safeParse(PopupMessage, data)
      if (!parsed.success) return
      options.onMessage(parsed.output)
    } catch {
      // A hostile or broken message must never break the dapp.
    }
  }
  target.addEventListener('message', listener)

  return {
    post(request) {
      const popup = options.getPopup()
      if (!popup) return false
      popup.postMessage(request, authServerOrigin)
      return true
    },
    destroy() {
      target.removeEventListener('message', listener)
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Popup side

/** The popup window surface the popup messenger uses. */
export type PopupWindow = MessengerWindow & {
  readonly opener: (Pick<Window, 'postMessage'> & { readonly closed?: boolean }) | null
  readonly location: { readonly href: string }
}

export type PopupMessengerOptions = {
  /** The popup window (defaults to the global `window`). */
  window?: PopupWindow | undefined
  /** Post `{ type: 'ready' }` immediately (default true). Pass false and call `ready()` once the UI can take requests. */
  ready?: boolean | undefined
  /** How often `window.opener.closed` is polled, in ms. Default 500. */
  pollInterval?: number | undefined
}

/**
 * The requester went away: its page unloaded (`left`, with the client instance that sent `leaving`) or the opener
 * window closed (`closed`). Nobody reads the answers of its requests any more.
 */
export type RequesterGone = { reason: 'left'; client: string } | { reason: 'closed' }

/** Metadata of a request, for display. */
export type RequestContext = {
  /** The dapp origin (from `event.origin`, browser-provided). Show it on every screen. */
  origin: string
}

export type PopupMessenger = {
  /** The dapp origin, learned from `event.origin` of the first valid request; undefined before that. */
  readonly origin: string | undefined
  /** Requests received and not answered yet, oldest first. */
  readonly pending: readonly PopupRequest[]
  /**
   * Subscribes to valid requests. Requests that arrived before the first subscription are delivered to it
   * immediately. Returns the unsubscribe function.
   */
  onRequest(listener: (request: PopupRequest, context: RequestContext) => void): () => void
  /**
   * Answers a pending request with a result. The result is validated against the method's result schema
   * (throws an {@link InternalError} if it does not match: that is a bug in the popup). Unknown ids are ignored
   * (returns false).
   */
  respond<method extends PopupMethod>(
    request: { id: string; method: method },
    result: PopupResult<method>,
  ): boolean
  /** Answers a pending request with an error (any error; serialized to `{ code, message, data }`). */
  reject(request: { id: string }, error: unknown): boolean
  /**
   * Tells the dapp that the request's userOp is signed and going to the bundler (`{ type: 'submitted' }`); the request stays
   * pending here until answered. False for an unknown id.
   */
  submitted(request: { id: string }, info: Omit<Submitted, 'type' | 'id'>): boolean
  /** Subscribes to the requester going away (see {@link RequesterGone}). Returns the unsubscribe function. */
  onGone(listener: (gone: RequesterGone) => void): () => void
  /** Posts `{ type: 'ready' }` to the opener (targetOrigin = the `origin` URL param). */
  ready(): void
  /** Posts `{ type: 'closing' }` (also done automatically on `pagehide`). */
  closing(): void
  /** Stops listening. */
  destroy(): void
}

/**
 * The popup end, for the auth server's `/confirm` page.
 *
 * @example
 * ```ts
 * import { createPopupMessenger } from '@sso/client/popup'
 * const messenger = createPopupMessenger()
 * messenger.onRequest(async (request, { origin }) => {
 *   if (request.method === 'personal_sign') {
 *     try { messenger.respond(request, await signWithPasskey(request.params[0])) }
 *     catch (error) { messenger.reject(request, error) }
 *   }
 * })
 * ```
 */
export function createPopupMessenger(options: PopupMessengerOptions = {}): PopupMessenger {
  const self = options.window ?? (globalThis.window as unknown as PopupWindow)
  const readyOrigin = readOriginParam(self.location.href)

  let origin: string | undefined
  const pending = new Map<string, PopupRequest>()
  const seen = new Set<string>()
  const listeners = new Set<(request: PopupRequest, context: RequestContext) => void>()
  const goneListeners = new Set<(gone: RequesterGone) => void>()
  const buffered: PopupRequest[] = []
  let openerClosed = false

  function gone(event: RequesterGone) {
    for (const listener of goneListeners) {
      try {
        listener(event)
      } catch {
        // A failing UI handler must not stop the other listeners.
      }
    }
  }

  // The opener window closing sends no message: poll it (a cross-origin `closed` is readable).
  const hadOpener = Boolean(self.opener)
  const poll = setInterval(() => {
    if (!hadOpener || openerClosed) return
    let closed: boolean
    try {
      closed = !self.opener || self.opener.closed === true
    } catch {
      closed = false
    }
    if (!closed) return
    openerClosed = true
    gone({ reason: 'closed' })
  }, options.pollInterval ?? 500)

  function post(message: unknown, targetOrigin: string | undefined) {
    const opener = self.opener
    if (!opener || !targetOrigin) return
    try {
      opener.postMessage(message, targetOrigin)
    } catch {
      // The opener navigated away or closed.
    }
  }

  function deliver(request: PopupRequest) {
    if (listeners.size === 0) {
      buffered.push(request)
      return
    }
    for (const listener of listeners) {
      try {
        listener(request, { origin: origin as string })
      } catch {
        // A failing UI handler must not stop the other listeners.
      }
    }
  }

  const onMessage = (event: Event) => {
    try {
      const { data, origin: eventOrigin, source } = event as MessageEvent
      const leaving = v.safeParse(Leaving, data)
      if (leaving.success) {
        // Posted while the dapp page unloads: by delivery its window may be gone (`source` null). Only the origin
        // we answer (or, before any request, the one the `origin` param names) can say that it left.
        if ((source === self.opener || source === null) && eventOrigin === (origin ?? readyOrigin))
          gone({ reason: 'left', client: leaving.output.client })
        return
      }
      if (!self.opener || source !== self.opener) return
      if (origin !== undefined && eventOrigin !== origin) return
      if (typeof eventOrigin !== 'string' || eventOrigin === 'null' || eventOrigin === '') return
      const parsed = parseRequest(data)
      const id = parsed.success ? parsed.request.id : parsed.id
      // Without an id there is nobody to answer: ignore. A replayed id is ignored too.
      if (id === undefined || seen.has(id)) return
      seen.add(id)
      // Only a valid request pins the dapp origin.
      if (!parsed.success) {
        if (origin === undefined && !v.is(v.object({ id: v.string(), method: v.string() }), data)) return
        post({ id, error: serializeError(parsed.error) }, origin ?? eventOrigin)
        return
      }
      origin ??= eventOrigin
      pending.set(id, parsed.request)
      deliver(parsed.request)
    } catch {
      // Never throw on hostile input.
    }
  }

  const onPagehide = () => messenger.closing()

  self.addEventListener('message', onMessage)
  self.addEventListener('pagehide', onPagehide)

  const messenger: PopupMessenger = {
    get origin() {
      return origin
    },
    get pending() {
      return [...pending.values()]
    },
    onRequest(listener) {
      listeners.add(listener)
      const queued = buffered.splice(0)
      for (const request of queued) deliver(request)
      return () => listeners.delete(listener)
    },
    respond(request, result) {
      const entry = pending.get(request.id)
      if (!entry || entry.method !== request.method) return false
      const parsed = parseResult(request.method, result)
      if (!parsed.success)
        throw new InternalError(`The popup tried to answer "${request.method}" with a malformed result.`, {
          cause: parsed.error,
        })
      pending.delete(request.id)
      post({ id: request.id, result: parsed.result }, origin)
      return true
    },
    reject(request, error) {
      if (!pending.delete(request.id)) return false
      post({ id: request.id, error: serializeError(error) }, origin)
      return true
    },
    submitted(request, info) {
      if (!pending.has(request.id)) return false
      const full = v.safeParse(Submitted, { type: 'submitted', id: request.id, ...info })
      // A signed operation that does not fit the schema is left out: the dapp then only waits for the receipt.
      const { userOperation: _, entryPoint: __, ...bare } = info
      post(
        full.success ? full.output : v.parse(Submitted, { type: 'submitted', id: request.id, ...bare }),
        origin,
      )
      return true
    },
    onGone(listener) {
      goneListeners.add(listener)
      return () => goneListeners.delete(listener)
    },
    ready() {
      post(v.parse(Ready, { type: 'ready' }), readyOrigin)
    },
    closing() {
      post(v.parse(Closing, { type: 'closing' }), origin ?? readyOrigin)
    },
    destroy() {
      self.removeEventListener('message', onMessage)
      self.removeEventListener('pagehide', onPagehide)
      clearInterval(poll)
      listeners.clear()
      goneListeners.clear()
    },
  }

  if (options.ready !== false) messenger.ready()
  return messenger
}

/** Reads and normalizes the `origin` URL param; undefined when absent or not an origin. */
function readOriginParam(href: string): string | undefined {
  try {
    const param = new URL(href).searchParams.get(originParam)
    if (!param) return undefined
    const parsed = new URL(param).origin
    return parsed === 'null' ? undefined : parsed
  } catch {
    return undefined
  }
}
