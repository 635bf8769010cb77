import { type ConfigSource, loadConfig, type SsoConfig } from '~/lib/config'

export type ConfigLoad = { config: SsoConfig; source: ConfigSource } | { error: unknown }

// Starts fetching `/sso-config.json` before the router plugin, which waits for the page's code: the file arrives
// while the page's chunks load, instead of after them. The `config` plugin awaits it (and holds the mount).
export default defineNuxtPlugin({
  name: 'sso-config-fetch',
  order: -30,
  setup() {
    const load: Promise<ConfigLoad> = loadConfig().catch((error: unknown) => ({ error }))
    return { provide: { ssoConfigLoad: load } }
  },
})
