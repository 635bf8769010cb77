import type { Address } from 'viem'
import type { SsoChainConfig } from '~/lib/config'
import { errorLine } from '~/lib/errors'
import { readRecovery } from '~/lib/recovery'

/**
 * The recovery settings and pending recovery of `address` on `chain`, read now and every 2 s (chain time with
 * it, so countdowns follow the chain's clock). `error` says why the last read failed.
 */
export function useRecoveryState(chain: () => SsoChainConfig, address: () => Address | undefined) {
  const state = ref<Awaited<ReturnType<typeof readRecovery>>>()
  const error = ref('')
  async function refresh() {
    const account = address()
    if (!account) return
    try {
      state.value = await readRecovery(chain(), account)
      error.value = ''
    } catch (e) {
      error.value = errorLine(e)
    }
  }
  let timer: ReturnType<typeof setInterval> | undefined
  onMounted(() => {
    void refresh()
    timer = setInterval(() => void refresh(), 2_000)
  })
  onBeforeUnmount(() => clearInterval(timer))
  watch(address, () => void refresh())
  return { state, error, refresh }
}

/** How many guardians approved (the approvals bit set). */
export function approvalCount(approvals: bigint): number {
  let n = 0
  for (let bits = approvals; bits > 0n; bits >>= 1n) if (bits & 1n) n++
  return n
}
