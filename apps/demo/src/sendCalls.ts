import { type Address, type Hex, numberToHex } from 'viem'

/** `wallet_sendCalls` params (EIP-5792, version 2.0.0) for calls that must run together: one atomic user operation. */
export function atomicCalls(
  chainId: number,
  from: Address | undefined,
  calls: readonly { to: Address; data?: Hex; value?: Hex }[],
) {
  return [{ version: '2.0.0', chainId: numberToHex(chainId), from, atomicRequired: true, calls }]
}
