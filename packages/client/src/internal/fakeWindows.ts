/**
 * Test boundary: a fake popup window and opener that behave like the browser's `postMessage` (asynchronous
 * delivery, structured clone, `targetOrigin` enforcement, browser-set `event.origin` / `event.source`).
 * Used by the unit tests only; the real thing is exercised by the Playwright suite.
 */
import type { PopupWindow } from '../Messenger.js'

export type FakePopup = PopupWindow &
  EventTarget & {
    closed: boolean
    focused: number
    close(): void
    focus(): void
    postMessage(data: unknown, targetOrigin: string): void
    /** Every message the dapp posted, with its targetOrigin. */
    readonly received: { data: unknown; targetOrigin: string }[]
  }

export type FakeWindowsOptions = {
  dappOrigin: string
  authOrigin: string
  /** Runs "the auth server page" inside the new popup (e.g. creates a popup messenger). */
  onOpen?: (popup: FakePopup) => void
}

/** Stubs `window.open` on the (happy-dom) global window; returns the opened popups. */
export function installFakeWindows(options: FakeWindowsOptions) {
  const popups: FakePopup[] = []
  let blocked = false
  const original = window.open

  // What the popup sees as `window.opener`: posts into the dapp window as the browser would.
  const opener = {
    postMessage(data: unknown, targetOrigin: string) {
      if (targetOrigin !== options.dappOrigin) return // the browser drops it
      const source = popups.at(-1)
      const cloned = structuredClone(data)
      setTimeout(() => {
        window.dispatchEvent(
          new MessageEvent('message', { data: cloned, origin: options.authOrigin, source: source as never }),
        )
      })
    },
  }

  window.open = ((url?: string | URL) => {
    if (blocked) return null
    const target = new EventTarget() as FakePopup
    Object.assign(target, {
      opener,
      location: { href: String(url) },
      closed: false,
      focused: 0,
      received: [],
      close() {
        if (target.closed) return
        target.dispatchEvent(new Event('pagehide'))
        target.closed = true
      },
      focus() {
        target.focused++
      },
      postMessage(data: unknown, targetOrigin: string) {
        target.received.push({ data, targetOrigin })
        if (target.closed || targetOrigin !== options.authOrigin) return
        const cloned = structuredClone(data)
        setTimeout(() => {
          target.dispatchEvent(
            new MessageEvent('message', {
              data: cloned,
              origin: options.dappOrigin,
              source: opener as never,
            }),
          )
        })
      },
    })
    popups.push(target)
    options.onOpen?.(target)
    return target as unknown as Window
  }) as typeof window.open

  return {
    popups,
    opener,
    block(value = true) {
      blocked = value
    },
    /** Delivers a message to the dapp window as if posted by `source` from `origin`. */
    sendToDapp(data: unknown, origin: string, source: unknown) {
      window.dispatchEvent(new MessageEvent('message', { data, origin, source: source as never }))
    },
    restore() {
      window.open = original
    },
  }
}

/** Delivers a message to a fake popup as if posted by `source` from `origin`. */
export function sendToPopup(popup: EventTarget, data: unknown, origin: string, source: unknown) {
  popup.dispatchEvent(new MessageEvent('message', { data, origin, source: source as never }))
}

export const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms))
