/**
 * The dapp's handle on the auth server popup: opens it inside the user's gesture, queues requests over it,
 * matches answers to requests, and fails requests when the popup goes away or takes too long (docs/architecture.md, section 4).
 */
import {
  deserializeError,
  InternalError,
  PopupBlockedError,
  type RpcError,
  TimeoutError,
  UserRejectedRequestError,
} from './Errors.js'
import { confirmUrl, createDappMessenger, type MessengerWindow } from './Messenger.js'
import {
  type PopupMessage,
  type PopupMethod,
  type PopupParamsInput,
  type PopupResult,
  parseResult,
  type Request,
} from './RpcSchema.js'

/** The dapp window surface the popup client uses (a real `Window` satisfies it). */
export type PopupHostWindow = MessengerWindow &
  Pick<Window, 'open'> & {
    readonly location: { readonly origin: string }
    readonly screenX?: number
    readonly screenY?: number
    readonly outerWidth?: number
    readonly outerHeight?: number
  }

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

export type Popup = {
  /**
   * Sends a request to the popup, opening (or focusing) it first. Call it synchronously from the user's gesture:
   * the window is opened before this function returns. Rejects with {@link PopupBlockedError} when the browser
   * blocks the window, 4001 when the user closes it, {@link TimeoutError} after `timeout`.
   */
  request<method extends PopupMethod>(
    method: method,
    params: PopupParamsInput<method>,
    chainId: number,
  ): Promise<PopupResult<method>>
  /** Whether the popup window is open. */
  readonly isOpen: boolean
  /** Number of requests waiting for an answer. */
  readonly pendingCount: number
  /** Closes the popup; pending requests fail with 4001. */
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
}

const popupName = 'sso-popup'
const width = 440
const height = 680

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

  let popup: Window | null = null
  let ready = false
  let poll: ReturnType<typeof setInterval> | undefined
  const pending = new Map<string, Pending>()

  const messenger = host
    ? createDappMessenger({ window: host, authServerOrigin, getPopup: () => popup, onMessage })
    : undefined

  function onMessage(message: PopupMessage) {
    if ('type' in message) {
      if (message.type === 'ready') {
        ready = true
        // Also after a reload of the popup: send everything not answered yet.
        for (const entry of pending.values()) messenger?.post(entry.envelope)
      } else {
        // `closing` is also sent when the popup reloads; only a window that is really gone fails the requests.
        ready = false
        checkClosedSoon()
      }
      return
    }
    const entry = pending.get(message.id)
    if (!entry) return // unknown or replayed id
    settle(message.id)
    if ('error' in message) entry.reject(deserializeError(message.error))
    else {
      const parsed = parseResult(entry.method, message.result)
      if (parsed.success) entry.resolve(parsed.result as never)
      else entry.reject(parsed.error)
    }
    closeIfIdle()
  }

  function settle(id: string) {
    const entry = pending.get(id)
    if (!entry) return
    clearTimeout(entry.timer)
    pending.delete(id)
  }

  function rejectAll(error: () => RpcError) {
    for (const [id, entry] of [...pending]) {
      settle(id)
      entry.reject(error())
    }
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
    rejectAll(() => new UserRejectedRequestError('The user closed the SSO popup.'))
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

  function open(): Window {
    if (!host)
      throw new PopupBlockedError({ details: 'There is no browser window to open the SSO popup from.' })
    if (popup && !popup.closed) {
      try {
        popup.focus()
      } catch {
        // Focus is best effort.
      }
      return popup
    }
    const url = confirmUrl(options.authServerUrl, host.location.origin)
    let opened: Window | null = null
    try {
      opened = host.open(url, popupName, features(host))
    } catch (cause) {
      throw new PopupBlockedError({ cause })
    }
    if (!opened || opened.closed) throw new PopupBlockedError()
    popup = opened
    ready = false
    if (poll !== undefined) clearInterval(poll)
    poll = setInterval(() => {
      if (popup?.closed) onClosed()
    }, pollInterval)
    return opened
  }

  return {
    request(method, params, chainId) {
      try {
        open()
      } catch (error) {
        return Promise.reject(error)
      }
      const id = randomId()
      const envelope: Request =
        params === undefined ? { id, method, chainId } : { id, method, params, chainId }
      return new Promise<PopupResult<typeof method>>((resolve, reject) => {
        const timer = setTimeout(() => {
          settle(id)
          reject(new TimeoutError(timeout))
          closeIfIdle()
        }, timeout)
        pending.set(id, { method, envelope, resolve: resolve as (value: never) => void, reject, timer })
        if (ready && !messenger?.post(envelope)) {
          settle(id)
          reject(new InternalError('The SSO popup is not available.'))
        }
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
      messenger?.destroy()
    },
  }
}

function features(host: PopupHostWindow): string {
  const left = Math.max(0, Math.round((host.screenX ?? 0) + ((host.outerWidth ?? width) - width) / 2))
  const top = Math.max(0, Math.round((host.screenY ?? 0) + ((host.outerHeight ?? height) - height) / 2))
  return `popup=yes,width=${width},height=${height},left=${left},top=${top}`
}

function randomId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}
