/**
 * Opening the auth server window: `window.open` with the popup's name and a centred size. Synchronous, so that it
 * runs inside the user's gesture (docs/architecture.md, section 4).
 */
import { PopupBlockedError } from '../Errors.js'
import type { MessengerWindow } from '../Messenger.js'

/** The dapp window surface the popup client uses (a real `Window` satisfies it). */
export type PopupHostWindow = MessengerWindow &
  Pick<Window, 'open'> & {
    readonly location: { readonly origin: string }
    readonly screenX?: number
    readonly screenY?: number
    readonly outerWidth?: number
    readonly outerHeight?: number
  }

const popupName = 'sso-popup'
const width = 440
const height = 680

/** Opens `url` in the popup window; {@link PopupBlockedError} when the browser refuses. */
export function openWindow(host: PopupHostWindow | undefined, url: () => string): Window {
  if (!host)
    throw new PopupBlockedError({ details: 'There is no browser window to open the SSO popup from.' })
  let opened: Window | null = null
  try {
    opened = host.open(url(), popupName, features(host))
  } catch (cause) {
    throw new PopupBlockedError({ cause })
  }
  if (!opened || opened.closed) throw new PopupBlockedError()
  return opened
}

function features(host: PopupHostWindow): string {
  const left = Math.max(0, Math.round((host.screenX ?? 0) + ((host.outerWidth ?? width) - width) / 2))
  const top = Math.max(0, Math.round((host.screenY ?? 0) + ((host.outerHeight ?? height) - height) / 2))
  return `popup=yes,width=${width},height=${height},left=${left},top=${top}`
}

export function randomId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}
