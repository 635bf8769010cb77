/**
 * The devnet faucet of the dashboard (docs/dashboard.md): on the local chains only (ids 31337 and 31338, anvil),
 * sends test ETH and mints the demo token (DUSD) to the account from a faucet address anvil lets anyone act as
 * (`anvil_impersonateAccount`). Real transfers, so they show in the account's history like any other.
 */
import { demoTokenAbi } from '@sso/contracts-abi'
import { type Address, encodeFunctionData, type Hex, numberToHex, parseEther, parseUnits } from 'viem'
import { getPublicClient } from './chains'
import type { SsoChainConfig } from './config'
import { AccountError } from './errors'

/** The chain ids of the devnet (packages/devnet): anvil, where the faucet works. */
export const devnetChainIds: readonly number[] = [31337, 31338]

/** The address the faucet sends from (no key: anvil impersonates it). */
const faucetAddress: Address = '0xfa0ce70000000000000000000000000000000001'

/** What one click gives. */
const faucetAmounts = { eth: parseEther('10'), demoToken: parseUnits('1000', 6) }

export function isDevnet(chain: SsoChainConfig): boolean {
  return devnetChainIds.includes(chain.id)
}

/**
 * Sends {@link faucetAmounts} ETH and mints as many DUSD to `account` on a devnet chain; resolves once both are
 * mined. Throws `AccountError` on any other chain (the button is not shown there either).
 *
 * @example
 * ```ts
 * await fundFromFaucet(chain, account)
 * ```
 */
export async function fundFromFaucet(chain: SsoChainConfig, account: Address): Promise<void> {
  if (!isDevnet(chain)) throw new AccountError(`Chain ${chain.id} is not a devnet: there is no faucet.`)
  const client = getPublicClient(chain)
  const rpc = (method: string, params: unknown[]) =>
    client.request({ method, params } as never) as Promise<unknown>
  await rpc('anvil_setBalance', [faucetAddress, numberToHex(parseEther('1000000'))])
  await rpc('anvil_impersonateAccount', [faucetAddress])
  try {
    // One after the other: the faucet's nonce orders them.
    const hashes = [
      (await rpc('eth_sendTransaction', [
        { from: faucetAddress, to: account, value: numberToHex(faucetAmounts.eth) },
      ])) as Hex,
    ]
    const token = (chain.contracts as Record<string, Address | undefined>).demoToken
    if (token)
      hashes.push(
        (await rpc('eth_sendTransaction', [
          {
            from: faucetAddress,
            to: token,
            data: encodeFunctionData({
              abi: demoTokenAbi,
              functionName: 'mint',
              args: [account, faucetAmounts.demoToken],
            }),
          },
        ])) as Hex,
      )
    const receipts = await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash })))
    if (receipts.some((r) => r.status !== 'success'))
      throw new AccountError('The faucet transaction reverted.')
  } finally {
    await rpc('anvil_stopImpersonatingAccount', [faucetAddress])
  }
}
