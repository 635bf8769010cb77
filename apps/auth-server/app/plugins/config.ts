import { InvalidConfigError, loadConfig } from '~/lib/config'
import { useConfigStore } from '~/stores/config'

// Blocks the app mount until `/sso-config.json` is loaded, so every page sees the final configuration.
export default defineNuxtPlugin({
  name: 'sso-config',
  async setup() {
    const store = useConfigStore()
    try {
      const { config, source } = await loadConfig()
      store.config = config
      store.source = source
    } catch (error) {
      store.error = error instanceof InvalidConfigError ? error.message : String(error)
    }
  },
})
