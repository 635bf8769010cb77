import { type Address, getContractAddress, type Hex, keccak256, stringToHex } from 'viem'

/**
 * The deterministic deployment proxy (Arachnid's CREATE2 factory). Present by default on anvil and on most
 * public chains; elsewhere it is installed by funding `signer` with `cost` wei and broadcasting the
 * presigned, chain-agnostic (pre-EIP-155) `rawTransaction`.
 *
 * Calling it with `salt ‖ initCode` as calldata deploys `initCode` with CREATE2 and returns the address.
 */
export const deterministicDeployer = {
  address: '0x4e59b44847b379578588920ca78fbf26c0b4956c',
  signer: '0x3fab184622dc19b6109349b94811493bf2a45362',
  cost: 10_000_000_000_000_000n,
  rawTransaction:
    '0xf8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf31ba02222222222222222222222222222222222222222222222222222222222222222a02222222222222222222222222222222222222222222222222222222222222222',
} as const satisfies { address: Address; signer: Address; cost: bigint; rawTransaction: Hex }

/**
 * ERC-4337 EntryPoint v0.8: its canonical address and the CREATE2 salt it is deployed with through the
 * deterministic deployer (init code = `bytecode` of `@account-abstraction/contracts@0.8.0` EntryPoint.json).
 */
export const entryPoint08 = {
  address: '0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108',
  salt: '0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9',
} as const satisfies { address: Address; salt: Hex }

/**
 * Address of a contract deployed through the deterministic deployer.
 *
 * @example
 * create2Address({ salt: deploymentSalt('WebAuthnValidator'), initCode: '0x6080…' })
 */
export function create2Address(parameters: { salt: Hex; initCode: Hex }): Address {
  return getContractAddress({
    opcode: 'CREATE2',
    from: deterministicDeployer.address,
    salt: parameters.salt,
    bytecode: parameters.initCode,
  })
}

/**
 * The fixed CREATE2 salt of one of our contracts: `keccak256("sso.v1.<ContractName>")`. Changing it (or the
 * contract's init code) moves the contract to a new address on every chain.
 *
 * @example
 * deploymentSalt('AccountFactory') // 0x…
 */
export function deploymentSalt(contractName: string): Hex {
  return keccak256(stringToHex(`sso.v1.${contractName}`))
}
