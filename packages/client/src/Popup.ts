/**
 * The dapp's handle on the auth server popup: opens it inside the user's gesture, queues requests over it,
 * matches answers to requests, and settles each request exactly once (docs/architecture.md, section 4):
 * - answered by the popup: its result or error;
 * - the popup goes away (closed, or reloaded) before the request's userOp was sent: 4001, nothing was sent;
 * - the popup goes away after it said `submitted`: the request's `finish` completes it from the bundler;
 * - no answer within `timeout` (and nothing submitted): {@link TimeoutError}.
 */
import {
  deserializeError,
  InternalError,
  type RpcError,
  TimeoutError,
  UserRejectedRequestError,
} from './Errors.js'
import { openWindow, type PopupHostWindow, randomId } from './internal/popupWindow.js'
import { confirmUrl, createDappMessenger } from './Messenger.js'
import {
  type PopupMessage,
  type PopupMethod,
  type PopupParamsInput,
  type PopupResult,
  parseResult,
  type Request,
  type Submitted,
} from './RpcSchema.js'

export type { PopupHostWindow } from './internal/popupWindow.js'

export type PopupOptions = {
  /** Base URL of the auth server, e.g. `http://localhost:3002`. The popup opens at `${authServerUrl}/confirm`. */
  authServerUrl: string
  /** Milliseconds a request may wait for an answer before it fails with {@link TimeoutError}. Default 5 minutes. */
  timeout?: number | undefined
  /** How often `popup.closed` is polled, in ms. Default 250. */
  pollInterval?: number | undefined
  /** The dapp window (defaults to the global `window`). */
  window?: PopupHostWindow | undefined
}

export type PopupRequestOptions<method extends PopupMethod> = {
  /**
   * Completes the request without the popup once its userOp was sent (the popup said `submitted`, then went
   * away): e.g. waits for the receipt on the bundler. Without it such a request fails with -32603 (never 4001).
   */
  finish?: ((submitted: Submitted) => Promise<PopupResult<method>>) | undefined
}

export type Popup = {
  /**
   * Sends a request to the popup, opening (or focusing) it first. Call it synchronously from the user's gesture:
   * the window is opened before this function returns. Rejects with {@link PopupBlockedError} when the browser
   * blocks the window, 4001 when the user closes it before anything was sent, {@link TimeoutError} after `timeout`.
   */
  request<method extends PopupMethod>(
    method: method,
    params: PopupParamsInput<method>,
    chainId: number,
    options?: PopupRequestOptions<method>,
  ): Promise<PopupResult<method>>
  /** Whether the popup window is open. */
  readonly isOpen: boolean
  /** Number of requests waiting for an answer. */
  readonly pendingCount: number
  /** Closes the popup; pending requests fail with 4001 (or finish without it when already submitted). */
  close(): void
  /** Closes the popup and stops listening. */
  destroy(): void
}

type Pending = {
  method: PopupMethod
  envelope: Request
  resolve: (value: never) => void
  reject: (error: RpcError) => void
  timer: ReturnType<typeof setTimeout>
  finish: ((submitted: Submitted) => Promise<unknown>) | undefined
  submitted: Submitted | undefined
}

/**
 * Creates the popup client.
 *
 * @example
 * ```ts
 * const popup = createPopup({ authServerUrl: 'http://localhost:3002' })
 * button.onclick = async () => {
 *   const { accounts } = await popup.request('eth_requestAccounts', [], 31337) // opens before the first await
 * }
 * ```
 */
export function createPopup(options: PopupOptions): Popup {
  const host = options.window ?? (globalThis.window as PopupHostWindow | undefined)
  const timeout = options.timeout ?? 5 * 60_000
  const pollInterval = options.pollInterval ?? 250
  const authServerOrigin = new URL(options.authServerUrl).origin
  // One id per client instance: the popup cancels this instance's requests when its page goes away.
  const client = randomId()

  let popup: Window | null = null
  let ready = false
  let poll: ReturnType<typeof setInterval> | undefined
  const pending = new Map<string, Pending>()

  const messenger = host
    ? createDappMessenger({ window: host, authServerOrigin, getPopup: () => popup, onMessage })
    : undefined
  const onPagehide = () => {
    if (popup && !popup.closed) messenger?.post({ type: 'leaving', client })
  }
  host?.addEventListener('pagehide', onPagehide)

  function onMessage(message: PopupMessage) {
    if ('type' in message) {
      if (message.type === 'ready') onReady()
      else if (message.type === 'closing') {
        // `closing` is also sent when the popup reloads; only a window that is really gone settles the requests.
        ready = false
        checkClosedSoon()
      } else onSubmitted(message)
      return
    }
    const entry = take(message.id)
    if (!entry) return // unknown, replayed or already settled id
    if ('error' in message) entry.reject(deserializeError(message.error))
    else {
      const parsed = parseResult(entry.method, message.result)
      if (parsed.success) entry.resolve(parsed.result as never)
      else entry.reject(parsed.error)
    }
    closeIfIdle()
  }

  function onReady() {
    ready = true
    // Also after a reload of the popup: what was sent finishes without it; the rest is sent (again).
    for (const [id, entry] of [...pending]) {
      if (entry.submitted) finishWithoutPopup(id)
      else messenger?.post(entry.envelope)
    }
  }

  function onSubmitted(message: Submitted) {
    const entry = pending.get(message.id)
    if (!entry) return
    entry.submitted = message
    // Sent: the request no longer times out as a whole; `finish` bounds its own wait.
    clearTimeout(entry.timer)
  }

  /** Removes a pending request (it is being settled). */
  function take(id: string): Pending | undefined {
    const entry = pending.get(id)
    if (!entry) return undefined
    clearTimeout(entry.timer)
    pending.delete(id)
    return entry
  }

  function finishWithoutPopup(id: string) {
    const entry = take(id)
    if (!entry?.submitted) return
    const { submitted } = entry
    if (!entry.finish) {
      entry.reject(
        new InternalError(
          `The SSO popup went away after sending user operation ${submitted.userOpHash}; its result is unknown.`,
          { data: { reason: 'submitted', userOpHash: submitted.userOpHash } },
        ),
      )
      return
    }
    entry.finish(submitted).then(entry.resolve as (value: unknown) => void, entry.reject)
  }

  function closeIfIdle() {
    if (pending.size === 0) closeWindow()
  }

  function closeWindow() {
    if (poll !== undefined) clearInterval(poll)
    poll = undefined
    const current = popup
    popup = null
    ready = false
    try {
      if (current && !current.closed) current.close()
    } catch {
      // Already gone.
    }
  }

  function onClosed() {
    closeWindow()
    for (const [id, entry] of [...pending]) {
      if (entry.submitted) finishWithoutPopup(id)
      else take(id)?.reject(new UserRejectedRequestError('The user closed the SSO popup.'))
    }
  }

  function checkClosedSoon() {
    // The window reports `closed` a moment after its `pagehide`; check quickly so rejection stays well under 1 s.
    const started = Date.now()
    const check = () => {
      if (!popup) return
      if (popup.closed) onClosed()
      else if (Date.now() - started < 1_000) setTimeout(check, 50)
    }
    setTimeout(check, 0)
  }

  function open(): void {
    if (popup && !popup.closed) {
      try {
        popup.focus()
      } catch {
        // Focus is best effort.
      }
      return
    }
    popup = openWindow(host, () =>
      confirmUrl(options.authServerUrl, (host as PopupHostWindow).location.origin),
    )
    ready = false
    if (poll !== undefined) clearInterval(poll)
    poll = setInterval(() => {
      if (popup?.closed) onClosed()
    }, pollInterval)
  }

  return {
    request(method, params, chainId, requestOptions = {}) {
      try {
        open()
      } catch (error) {
        return Promise.reject(error)
      }
      const id = randomId()
      const envelope: Request =
        params === undefined ? { id, method, chainId, client } : { id, method, params, chainId, client }
      return new Promise<PopupResult<typeof method>>((resolve, reject) => {
        const timer = setTimeout(() => {
          take(id)?.reject(new TimeoutError(timeout))
          closeIfIdle()
        }, timeout)
        pending.set(id, {
          method,
          envelope,
          resolve: resolve as (value: never) => void,
          reject,
          timer,
          finish: requestOptions.finish as Pending['finish'],
          submitted: undefined,
        })
        if (ready && !messenger?.post(envelope))
          take(id)?.reject(new InternalError('The SSO popup is not available.'))
      })
    },
    get isOpen() {
      return popup !== null && !popup.closed
    },
    get pendingCount() {
      return pending.size
    },
    close() {
      onClosed()
    },
    destroy() {
      onClosed()
      host?.removeEventListener('pagehide', onPagehide)
      messenger?.destroy()
    },
  }
}
