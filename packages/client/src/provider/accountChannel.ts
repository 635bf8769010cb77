/**
 * The account channel (docs/interfaces.md, "Account channel"): a hidden iframe of the auth server's
 * `/channel.html` that tells a connected dapp when its account logs out or is switched in the auth server. The
 * client accepts its messages only from the auth server's origin and from that iframe.
 */
import * as v from 'valibot'
import { Address } from '../RpcSchema.js'

const AccountMessage = v.object({
  type: v.literal('account'),
  status: v.picklist(['connected', 'logged-out', 'switched', 'unknown']),
  address: v.optional(Address),
})
export type AccountStatus = v.InferOutput<typeof AccountMessage>

/** The dapp window surface the channel uses (a real `Window` satisfies it). */
export type ChannelHost = Pick<Window, 'addEventListener' | 'removeEventListener'> & {
  readonly location: { readonly origin: string }
  readonly document?: Pick<Document, 'createElement' | 'body'> | undefined
}

export type AccountChannel = {
  /** Embeds the iframe (once); call when connected. */
  start(): void
  /** Removes the iframe; call when disconnected. */
  stop(): void
}

export function createAccountChannel(parameters: {
  authServerUrl: string
  host: ChannelHost | undefined
  onStatus: (status: AccountStatus) => void
}): AccountChannel {
  const { host } = parameters
  const authServerOrigin = new URL(parameters.authServerUrl).origin
  let frame: HTMLIFrameElement | undefined

  const listener = (event: Event) => {
    const { data, origin, source } = event as MessageEvent
    if (!frame?.contentWindow || origin !== authServerOrigin || source !== frame.contentWindow) return
    const parsed = v.safeParse(AccountMessage, data)
    if (parsed.success) parameters.onStatus(parsed.output)
  }

  return {
    start() {
      const document = host?.document
      if (frame || !host || !document?.body) return
      const url = new URL('channel.html', `${authServerOrigin}/`)
      url.searchParams.set('origin', host.location.origin)
      frame = document.createElement('iframe')
      frame.src = url.toString()
      frame.title = 'SSO account channel'
      frame.hidden = true
      frame.setAttribute('aria-hidden', 'true')
      frame.tabIndex = -1
      host.addEventListener('message', listener)
      document.body.appendChild(frame)
    },
    stop() {
      if (!frame) return
      host?.removeEventListener('message', listener)
      frame.remove()
      frame = undefined
    },
  }
}
