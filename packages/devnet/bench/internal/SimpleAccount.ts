import { createRequire } from 'node:module'
import {
  type Address,
  encodeFunctionData,
  type Hex,
  keccak256,
  type LocalAccount,
  parseAbi,
  stringToHex,
} from 'viem'
import {
  entryPoint08Abi,
  entryPoint08Address,
  getUserOperationHash,
  type SmartAccount,
  type SmartAccountImplementation,
  toSmartAccount,
} from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { readContract } from 'viem/actions'

const require = createRequire(import.meta.url)

/** Creation bytecode of `@account-abstraction/contracts@0.8.0` SimpleAccountFactory (constructor: entryPoint). */
export const simpleAccountFactoryBytecode = (
  require('@account-abstraction/contracts/artifacts/SimpleAccountFactory.json') as { bytecode: Hex }
).bytecode

const factoryAbi = parseAbi([
  'function createAccount(address owner, uint256 salt) returns (address)',
  'function getAddress(address owner, uint256 salt) view returns (address)',
])
const accountAbi = parseAbi([
  'function execute(address target, uint256 value, bytes data)',
  'struct Call { address target; uint256 value; bytes data; }',
  'function executeBatch(Call[] calls)',
])

// A real signature by a throwaway key over another hash: ECDSA.recover succeeds and yields the wrong signer
// (SIG_VALIDATION_FAILED, no revert), so gas estimation runs the same path as the owner's signature.
const stubSignature: Promise<Hex> = privateKeyToAccount(keccak256(stringToHex('sso.bench.stub'))).sign({
  hash: keccak256(stringToHex('stub')),
})

// Nonce key 0 (sequential nonces): viem's default random keys would write a fresh nonce slot every userOp.
const zeroNonceKeys = { consume: async () => 0, get: async () => 0, increment: () => {}, reset: () => {} }

/**
 * The eth-infinitism SimpleAccount v0.8 (ECDSA owner, deployed by SimpleAccountFactory through the first
 * userOp) as a viem SmartAccount: the reference column of the gas benchmark.
 */
export async function toSimpleAccount(parameters: {
  client: SmartAccountImplementation['client']
  owner: LocalAccount
  factory: Address
  salt?: bigint
}): Promise<SmartAccount> {
  const { client, owner, factory } = parameters
  const salt = parameters.salt ?? 0n
  const chainId = client.chain?.id
  if (chainId === undefined) throw new Error('toSimpleAccount needs a client with a chain')
  const address = await readContract(client, {
    address: factory,
    abi: factoryAbi,
    functionName: 'getAddress',
    args: [owner.address, salt],
  })
  return toSmartAccount({
    client,
    entryPoint: { abi: entryPoint08Abi, address: entryPoint08Address, version: '0.8' },
    nonceKeyManager: zeroNonceKeys,
    async getAddress() {
      return address
    },
    async encodeCalls(calls) {
      if (calls.length === 1) {
        const [call] = calls
        return encodeFunctionData({
          abi: accountAbi,
          functionName: 'execute',
          args: [call!.to, call!.value ?? 0n, call!.data ?? '0x'],
        })
      }
      return encodeFunctionData({
        abi: accountAbi,
        functionName: 'executeBatch',
        args: [calls.map((call) => ({ target: call.to, value: call.value ?? 0n, data: call.data ?? '0x' }))],
      })
    },
    async getFactoryArgs() {
      return {
        factory,
        factoryData: encodeFunctionData({
          abi: factoryAbi,
          functionName: 'createAccount',
          args: [owner.address, salt],
        }),
      }
    },
    async getStubSignature() {
      return await stubSignature
    },
    async signMessage() {
      throw new Error('not needed by the benchmark')
    },
    async signTypedData() {
      throw new Error('not needed by the benchmark')
    },
    async signUserOperation({ chainId: opChainId = chainId, ...userOperation }) {
      // The account's own userOp hash, as its EntryPoint computes it (the op may leave its sender out).
      const hash = getUserOperationHash({
        chainId: opChainId,
        entryPointAddress: entryPoint08Address,
        entryPointVersion: '0.8',
        userOperation: { ...userOperation, sender: address },
      })
      // v0.8 SimpleAccount recovers the signer from the (EIP-712) userOpHash itself, no EIP-191 prefix.
      return owner.sign!({ hash })
    },
  })
}
