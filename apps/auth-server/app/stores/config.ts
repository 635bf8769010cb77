import { defineStore } from 'pinia'
import {
  type ConfigSource,
  defaultConfig,
  type SignInPage,
  type SsoChainConfig,
  type SsoConfig,
  signInPages,
} from '~/lib/config'

/** The run-time configuration, loaded once by the `config` plugin before the app mounts. */
export const useConfigStore = defineStore('config', {
  state: () => ({
    config: defaultConfig() as SsoConfig,
    source: 'defaults' as ConfigSource,
    error: undefined as string | undefined,
  }),
  getters: {
    defaultChain: (state): SsoChainConfig => state.config.chains[0] as SsoChainConfig,
    /** The sign-in pages (main, and backup when configured). */
    pages: (state): SignInPage[] => signInPages(state.config),
  },
  actions: {
    /** The configured chain `id`, or undefined. */
    chain(id: number): SsoChainConfig | undefined {
      return this.config.chains.find((chain) => chain.id === id)
    },
  },
})
