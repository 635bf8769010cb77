import { defineStore } from 'pinia'
import { type ConfigSource, defaultConfig, type SsoChainConfig, type SsoConfig } from '~/lib/config'

/** The run-time configuration, loaded once by the `config` plugin before the app mounts. */
export const useConfigStore = defineStore('config', {
  state: () => ({
    config: defaultConfig() as SsoConfig,
    source: 'defaults' as ConfigSource,
    error: undefined as string | undefined,
  }),
  getters: {
    defaultChain: (state): SsoChainConfig => state.config.chains[0] as SsoChainConfig,
  },
  actions: {
    /** The configured chain `id`, or undefined. */
    chain(id: number): SsoChainConfig | undefined {
      return this.config.chains.find((chain) => chain.id === id)
    },
  },
})
