import { erc20Abi, isAddress, type PublicClient } from 'viem'
import { type ComputedRef, computed, ref, watch } from 'vue'
import type { DemoToken } from './config'

/**
 * The decimals and symbol of the token `address()` names: the chain's listed token, else read from the token, and 18
 * "tokens" until the read answers (a session request must be built synchronously inside the click).
 */
export function useTokenUnits(
  address: () => string,
  listed: () => DemoToken | undefined,
  client: () => PublicClient,
): ComputedRef<{ decimals: number; symbol: string }> {
  const read = ref<{ address: string; decimals: number; symbol: string }>()
  watch(address, async (token) => {
    if (!isAddress(token)) return
    try {
      const [decimals, symbol] = await Promise.all([
        client().readContract({ address: token, abi: erc20Abi, functionName: 'decimals' }),
        client().readContract({ address: token, abi: erc20Abi, functionName: 'symbol' }),
      ])
      read.value = { address: token, decimals, symbol }
    } catch {
      // not an ERC-20 (yet): 18 decimals
    }
  })
  return computed(() => {
    const token = address().toLowerCase()
    const known = listed()
    if (known && known.address.toLowerCase() === token)
      return { decimals: known.decimals, symbol: known.symbol }
    const fromChain = read.value?.address.toLowerCase() === token ? read.value : undefined
    return { decimals: fromChain?.decimals ?? 18, symbol: fromChain?.symbol ?? 'tokens' }
  })
}
