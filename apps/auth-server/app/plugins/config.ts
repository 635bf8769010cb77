import { InvalidConfigError } from '~/lib/config'
import type { ConfigLoad } from '~/plugins/config-fetch'
import { useConfigStore } from '~/stores/config'

// Blocks the app mount until `/sso-config.json` is loaded (the fetch starts early, in `config-fetch`), so every
// page sees the final configuration.
export default defineNuxtPlugin({
  name: 'sso-config',
  async setup(nuxtApp) {
    const store = useConfigStore()
    const loaded = (await nuxtApp.$ssoConfigLoad) as ConfigLoad
    if ('error' in loaded) {
      store.error = loaded.error instanceof InvalidConfigError ? loaded.error.message : String(loaded.error)
      return
    }
    store.config = loaded.config
    store.source = loaded.source
  },
})
