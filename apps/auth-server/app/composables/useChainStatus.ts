import { getPublicClient } from '~/lib/chains'
import type { SsoChainConfig } from '~/lib/config'

export type ChainStatus = {
  chainId: number | undefined
  blockNumber: bigint | undefined
  entryPoint: 'present' | 'missing' | undefined
  error: string | undefined
}

/**
 * Reads chain id, block number and whether the EntryPoint has code from `chain`, and polls while mounted.
 *
 * @example
 * ```ts
 * const status = useChainStatus(() => configStore.defaultChain)
 * ```
 */
export function useChainStatus(chain: () => SsoChainConfig, intervalMs = 1_000) {
  const status = reactive<ChainStatus>({
    chainId: undefined,
    blockNumber: undefined,
    entryPoint: undefined,
    error: undefined,
  })

  async function refresh() {
    const current = chain()
    const client = getPublicClient(current)
    try {
      const [chainId, blockNumber, code] = await Promise.all([
        client.getChainId(),
        client.getBlockNumber({ cacheTime: 0 }),
        client.getCode({ address: current.contracts.entryPoint }),
      ])
      status.chainId = chainId
      status.blockNumber = blockNumber
      status.entryPoint = code && code !== '0x' ? 'present' : 'missing'
      status.error = undefined
    } catch (error) {
      status.error = `Cannot reach ${current.rpcUrl}: ${(error as Error).message.split('\n')[0]}`
    }
  }

  let timer: ReturnType<typeof setInterval> | undefined
  onMounted(() => {
    void refresh()
    timer = setInterval(() => void refresh(), intervalMs)
  })
  onBeforeUnmount(() => clearInterval(timer))
  return { status, refresh }
}
