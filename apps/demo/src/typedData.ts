import type { Address } from 'viem'

/** The EIP-712 message the demo asks to sign (the classic "Mail" example), bound to the current chain. */
export function mailTypedData(chainId: number, from: Address) {
  return {
    domain: {
      name: 'SSO Demo',
      version: '1',
      chainId,
      verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
    },
    types: {
      Person: [
        { name: 'name', type: 'string' },
        { name: 'wallet', type: 'address' },
      ],
      Mail: [
        { name: 'from', type: 'Person' },
        { name: 'to', type: 'Person' },
        { name: 'contents', type: 'string' },
      ],
    },
    primaryType: 'Mail',
    message: {
      from: { name: 'Alice', wallet: from },
      to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
      contents: 'Hello, Bob! Signed with a passkey.',
    },
  } as const
}
