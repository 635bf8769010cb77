/**
 * ERC-7579 execution encoding of the SSO account: calls as `execute(mode, executionCalldata)`, sent packed as
 * `executePacked_ezig`: `0x00000017 ‖ mode ‖ executionCalldata`, no ABI words (same body as `execute`; the account's
 * dispatch reaches it first: docs/interfaces.md, "Execution"), and the userOp nonce key that selects the validator
 * module.
 */
import { ssoAccountAbi as accountAbi } from '@sso/contracts-abi'
import {
  type Address,
  concatHex,
  decodeAbiParameters,
  decodeFunctionData,
  encodeAbiParameters,
  getAddress,
  type Hex,
  numberToHex,
  padHex,
  size,
  sliceHex,
} from 'viem'
import { BaseError } from './Errors.js'

/** ERC-7579 mode: call type single (0x00), exec type default, no selector / payload. */
export const modeSingle: Hex = padHex('0x00', { dir: 'right', size: 32 })
/** ERC-7579 mode: call type batch (0x01), exec type default. */
export const modeBatch: Hex = padHex('0x01', { dir: 'right', size: 32 })

export type Call = { to: Address; data?: Hex | undefined; value?: bigint | undefined }

const executionsParameters = [
  {
    type: 'tuple[]',
    components: [
      { name: 'target', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'callData', type: 'bytes' },
    ],
  },
] as const

/** `executePacked_ezig()`: `execute` with its arguments packed after the selector (see the module comment). */
export const executePackedSelector: Hex = '0x00000017'

/**
 * Encodes calls for the account's `execute(mode, executionCalldata)`, packed (`executePacked_ezig`: selector ‖ mode
 * ‖ executionCalldata): one call -> single mode (`target ‖ value ‖ callData` packed), several -> batch mode
 * (`abi.encode(Execution[])`).
 *
 * @example
 * ```ts
 * const callData = encodeCalls([{ to: token, data: transferData }])
 * ```
 */
export function encodeCalls(calls: readonly Call[]): Hex {
  if (calls.length === 0) throw new BaseError('encodeCalls needs at least one call.')
  if (calls.length === 1) {
    const [call] = calls as [Call]
    const executionCalldata = concatHex([
      call.to,
      numberToHex(call.value ?? 0n, { size: 32 }),
      call.data ?? '0x',
    ])
    return concatHex([executePackedSelector, modeSingle, executionCalldata])
  }
  const executions = calls.map((c) => ({ target: c.to, value: c.value ?? 0n, callData: c.data ?? '0x' }))
  const executionCalldata = encodeAbiParameters(executionsParameters, [executions])
  return concatHex([executePackedSelector, modeBatch, executionCalldata])
}

/**
 * Decodes `execute(mode, executionCalldata)`, ABI-encoded or packed, back into calls (inverse of
 * {@link encodeCalls}).
 *
 * @example
 * ```ts
 * decodeCalls(encodeCalls(calls)) // calls
 * ```
 */
export function decodeCalls(data: Hex): Call[] {
  const [mode, executionCalldata] = executeArguments(data)
  const callType = sliceHex(mode, 0, 1)
  const execType = sliceHex(mode, 1, 2)
  // What the account executes: exec type default (0x00) or try (0x01); anything else reverts there.
  if (execType !== '0x00' && execType !== '0x01')
    throw new BaseError(`Unsupported ERC-7579 exec type ${execType}.`)
  if (callType === '0x00') {
    if (size(executionCalldata) < 52)
      throw new BaseError('A single ERC-7579 call is at least 52 bytes (target ‖ value).')
    const to = getAddress(sliceHex(executionCalldata, 0, 20))
    const value = BigInt(sliceHex(executionCalldata, 20, 52))
    const rest = size(executionCalldata) > 52 ? sliceHex(executionCalldata, 52) : '0x'
    return [{ to, value, data: rest }]
  }
  if (callType === '0x01') {
    const [executions] = decodeAbiParameters(executionsParameters, executionCalldata)
    return executions.map((e) => ({ to: e.target, value: e.value, data: e.callData }))
  }
  throw new BaseError(`Unsupported ERC-7579 call type ${callType}.`)
}

/** `execute`'s (mode, executionCalldata), from its ABI encoding or the packed form. */
function executeArguments(data: Hex): readonly [Hex, Hex] {
  if (size(data) >= 36 && sliceHex(data, 0, 4).toLowerCase() === executePackedSelector)
    return [sliceHex(data, 4, 36), size(data) > 36 ? sliceHex(data, 36) : '0x']
  const { functionName, args } = decodeFunctionData({ abi: accountAbi, data })
  if (functionName !== 'execute' || args?.length !== 2) throw new BaseError('Not an execute() call.')
  return args as readonly [Hex, Hex]
}

// ---------------------------------------------------------------------------------------------------------------
// Nonce key

/**
 * The userOp nonce key that selects `validator` (ERC-7579 convention): `uint192(validator) << 32 | sequence`.
 *
 * @example
 * ```ts
 * const key = nonceKey(contracts.webAuthnValidator) // pass to entryPoint.getNonce(account, key)
 * ```
 */
export function nonceKey(validator: Address, sequence = 0n): bigint {
  return (BigInt(validator) << 32n) | (sequence & 0xffffffffn)
}
