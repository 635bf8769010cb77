/**
 * EIP-6963 multi-injected-provider discovery: announce the SSO provider so wallet pickers (wagmi's
 * `injected` discovery, RainbowKit, …) list it.
 */

/** EIP-6963 provider info. */
export type ProviderInfo = {
  /** UUIDv4, unique per page session. */
  uuid: string
  name: string
  /** Data URI of a square image (96x96 px or larger). */
  icon: `data:image/${string}`
  /** Reverse-DNS identifier of the wallet. */
  rdns: string
}

export type AnnounceProviderOptions = {
  /** The EIP-1193 provider to announce (e.g. from `createProvider`). */
  provider: unknown
  /** Overrides of the default info (name "SSO", rdns "dev.sso", the SSO icon, a fresh uuid). */
  info?: Partial<ProviderInfo> | undefined
  /** The window to announce on (defaults to the global `window`). */
  window?: Pick<Window, 'addEventListener' | 'removeEventListener' | 'dispatchEvent'> | undefined
}

/** The default SSO icon: a key on a rounded square, as an SVG data URI. */
export const icon: `data:image/${string}` = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96"><rect width="96" height="96" rx="20" fill="#1e3a8a"/><circle cx="38" cy="48" r="14" fill="none" stroke="#fff" stroke-width="8"/><path d="M52 48h28v12M70 48v10" fill="none" stroke="#fff" stroke-width="8" stroke-linecap="round"/></svg>',
)}`

/**
 * Announces the provider (`eip6963:announceProvider`) now and whenever a dapp asks
 * (`eip6963:requestProvider`). Returns a function that stops answering.
 *
 * @example
 * ```ts
 * const provider = createProvider({ authServerUrl, chains })
 * const stop = announceProvider({ provider })
 * ```
 */
export function announceProvider(options: AnnounceProviderOptions): () => void {
  const target = options.window ?? globalThis.window
  if (!target) return () => {}
  const info: ProviderInfo = Object.freeze({
    uuid: options.info?.uuid ?? crypto.randomUUID(),
    name: options.info?.name ?? 'SSO',
    icon: options.info?.icon ?? icon,
    rdns: options.info?.rdns ?? 'dev.sso',
  })
  const detail = Object.freeze({ info, provider: options.provider })
  const announce = () => target.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }))
  announce()
  target.addEventListener('eip6963:requestProvider', announce)
  return () => target.removeEventListener('eip6963:requestProvider', announce)
}
