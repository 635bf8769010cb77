/**
 * The skeleton of every SSO account kind: a viem `SmartAccount` on EntryPoint v0.8 whose userOps one validator
 * module checks (selected by the nonce key), with calls encoded as ERC-7579 `execute`. A kind brings its address,
 * its factory (if any) and how it signs; `SsoAccount.ts` (passkey) and `SessionAccount.ts` (session key) use it.
 */
import type { Address, Hex } from 'viem'
import {
  entryPoint08Abi,
  getUserOperationHash,
  type SmartAccount,
  type SmartAccountImplementation,
  toSmartAccount,
} from 'viem/account-abstraction'
import { readContract } from 'viem/actions'
import { decodeCalls, encodeCalls, nonceKey } from '../Execution.js'

type Implementation<extend extends object> = SmartAccountImplementation<typeof entryPoint08Abi, '0.8', extend>

// The validator is the nonce key; the 32-bit sequence stays 0 so nonces are sequential.
const zeroNonceKeys = {
  consume: async () => 0,
  get: async () => 0,
  increment: () => {},
  reset: () => {},
}

export async function toValidatorAccount<extend extends object>(
  parameters: Pick<
    Implementation<extend>,
    'client' | 'getFactoryArgs' | 'getStubSignature' | 'signMessage' | 'signTypedData'
  > & {
    chainId: number
    address: Address
    entryPoint: Address
    /** The validator module that checks the userOps (its address is the nonce key). */
    validator: Address
    extend: extend
    /** Signs the EntryPoint v0.8 userOp hash: the userOp's `signature`. */
    signUserOperationHash: (hash: Hex) => Promise<Hex>
  },
): Promise<SmartAccount<Implementation<extend>>> {
  const { client, chainId, address, entryPoint, validator, signUserOperationHash } = parameters
  const implementation: Implementation<extend> = {
    client,
    entryPoint: { abi: entryPoint08Abi, address: entryPoint, version: '0.8' },
    extend: parameters.extend,
    nonceKeyManager: zeroNonceKeys,
    getFactoryArgs: parameters.getFactoryArgs,
    getStubSignature: parameters.getStubSignature,
    signMessage: parameters.signMessage,
    signTypedData: parameters.signTypedData,
    async getAddress() {
      return address
    },
    async encodeCalls(calls) {
      return encodeCalls(calls)
    },
    async decodeCalls(data) {
      return decodeCalls(data)
    },
    async getNonce(args) {
      return readContract(client, {
        address: entryPoint,
        abi: entryPoint08Abi,
        functionName: 'getNonce',
        args: [address, nonceKey(validator, args?.key ?? 0n)],
      })
    },
    async signUserOperation(userOperation) {
      const { chainId: opChainId = chainId, ...op } = userOperation
      const hash = getUserOperationHash({
        chainId: opChainId,
        entryPointAddress: entryPoint,
        entryPointVersion: '0.8',
        userOperation: { ...op, sender: address } as Parameters<
          typeof getUserOperationHash
        >[0]['userOperation'],
      })
      return signUserOperationHash(hash)
    },
  }
  return toSmartAccount(implementation)
}
