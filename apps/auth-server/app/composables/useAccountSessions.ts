import type { Address } from 'viem'
import { type ChainSessions, readAccountSessions } from '~/lib/accountSessions'
import { getBatchClient } from '~/lib/chains'
import type { SsoChainConfig } from '~/lib/config'
import { useConfigStore } from '~/stores/config'

/**
 * The account's sessions on every configured chain (docs/dashboard.md), read again whenever `version` changes
 * (after a send, a grant, a revoke). Shared by the sessions and the connected-apps panels.
 *
 * @example
 * ```ts
 * const { chains, loaded, reload } = useAccountSessions(() => address, () => version.value)
 * ```
 */
export function useAccountSessions(address: () => Address | undefined, version: () => number) {
  const configStore = useConfigStore()
  const chains = ref<ChainSessions[]>([])
  const loaded = ref(false)
  /** Chain time (seconds) of the last read: limits reset and sessions expire on chain time. */
  const now = ref(Math.floor(Date.now() / 1000))
  let generation = 0

  async function reload() {
    const mine = ++generation
    const account = address()
    if (!account) {
      chains.value = []
      loaded.value = false
      return
    }
    const found = await Promise.all(
      configStore.config.chains.map(async (chain) => {
        const time = await chainTime(chain).catch(() => Math.floor(Date.now() / 1000))
        return { time, sessions: await readAccountSessions(chain, account, { now: time }) }
      }),
    )
    if (mine !== generation) return
    now.value = found[0]?.time ?? now.value
    chains.value = found.map((f) => f.sessions)
    loaded.value = true
  }

  watch([address, version], () => void reload(), { immediate: true })
  return { chains, loaded, now, reload }
}

async function chainTime(chain: SsoChainConfig): Promise<number> {
  const block = await getBatchClient(chain).getBlock({ blockTag: 'latest' })
  return Number(block.timestamp)
}
