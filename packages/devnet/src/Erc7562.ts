/**
 * An ERC-7562 check of a user operation's validation, run on any node that serves `debug_traceCall` with the
 * default struct logger (anvil included; it cannot run the geth JS tracers public bundlers use).
 *
 * {@link checkUserOperation} traces `EntryPoint.handleOps([userOp], beneficiary)` with stack and memory, splits
 * the steps before `BeforeExecution` into the validation phases (the factory through the EntryPoint's
 * SenderCreator, the account's `validateUserOp`, the paymaster's `validatePaymasterUserOp`) and applies the
 * network-wide rules of ERC-7562 to each ({@link analyzeValidationTrace}: opcodes, calls, storage, stakes).
 * Rules, entities and how to run it: docs/erc7562.md.
 */
import { entryPoint08 } from '@sso/contracts-abi'
import {
  type Address,
  type Client,
  createClient,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  numberToHex,
  parseAbi,
  slice,
} from 'viem'
import type { PackedUserOperation } from 'viem/account-abstraction'
import { getBlock, readContract } from 'viem/actions'
import {
  callOpcodes,
  defaultMinStake,
  defaultMinUnstakeDelay,
  type Erc7562Entity,
  type Erc7562Report,
  type Erc7562Stake,
  type Erc7562Violation,
  extCodeOpcodes,
} from './internal/erc7562/rules.js'
import { peek, type StructLog, toAddress } from './internal/erc7562/structLog.js'
import { analyzeValidationTrace } from './internal/erc7562/trace.js'

const entryPointAbi = parseAbi([
  'function senderCreator() view returns (address)',
  'function getDepositInfo(address account) view returns ((uint256 deposit, bool staked, uint112 stake, uint32 unstakeDelaySec, uint48 withdrawTime) info)',
  'function handleOps((address sender, uint256 nonce, bytes initCode, bytes callData, bytes32 accountGasLimits, uint256 preVerificationGas, bytes32 gasFees, bytes paymasterAndData, bytes signature)[] ops, address beneficiary)',
])

/** Options of {@link checkUserOperation}. */
export type CheckUserOperationParameters = {
  /** A node with `debug_traceCall` (struct logger with memory). */
  rpcUrl: string
  userOp: PackedUserOperation
  /** Default: the canonical EntryPoint v0.8. */
  entryPoint?: Address
  /** The block whose state the op is validated on. Default: the latest. */
  blockNumber?: bigint
  /** `MIN_STAKE_VALUE` in wei. Default {@link defaultMinStake} (1 ETH). */
  minStake?: bigint
  /** `MIN_UNSTAKE_DELAY` in seconds. Default {@link defaultMinUnstakeDelay} (1 day). */
  minUnstakeDelay?: number
  /** Precompiles validation may call. Default {@link defaultPrecompiles}. */
  precompiles?: readonly Address[]
  /** The caller of `handleOps` and its beneficiary (an address without code). */
  beneficiary?: Address
}

/** {@link Erc7562Report} with the stakes it was judged with. */
export type Erc7562Check = Erc7562Report & { stakes: Partial<Record<Erc7562Entity, Erc7562Stake>> }

/** Reads an entity's stake from the EntryPoint and judges it against the minimums. */
export async function readStake(
  client: Client,
  parameters: {
    entryPoint?: Address
    address: Address
    blockNumber?: bigint
    minStake?: bigint
    minUnstakeDelay?: number
  },
): Promise<Erc7562Stake> {
  const info = await readContract(client, {
    address: parameters.entryPoint ?? entryPoint08.address,
    abi: entryPointAbi,
    functionName: 'getDepositInfo',
    args: [parameters.address],
    ...(parameters.blockNumber !== undefined ? { blockNumber: parameters.blockNumber } : {}),
  })
  return {
    address: getAddress(parameters.address),
    deposit: info.deposit,
    locked: info.staked,
    stake: info.stake,
    unstakeDelaySec: info.unstakeDelaySec,
    staked:
      info.staked &&
      info.stake >= (parameters.minStake ?? defaultMinStake) &&
      info.unstakeDelaySec >= (parameters.minUnstakeDelay ?? defaultMinUnstakeDelay),
  }
}

/**
 * Traces the validation of `userOp` (`handleOps([userOp])` by `debug_traceCall`, struct logger with stack and
 * memory) on the state of one block and checks it against ERC-7562 with the entities' current stakes.
 */
export async function checkUserOperation(parameters: CheckUserOperationParameters): Promise<Erc7562Check> {
  // A trace with memory runs to tens of MB: no cap on the response body (viem's default is 10 MB).
  const client = createClient({
    transport: http(parameters.rpcUrl, { maxResponseBodySize: false, batch: false, retryCount: 0 }),
  })
  const entryPoint = parameters.entryPoint ?? entryPoint08.address
  const block = await getBlock(client, {
    ...(parameters.blockNumber !== undefined
      ? { blockNumber: parameters.blockNumber }
      : { blockTag: 'latest' }),
  })
  const blockNumber = block.number
  const { userOp } = parameters
  const senderCreator = await readContract(client, {
    address: entryPoint,
    abi: entryPointAbi,
    functionName: 'senderCreator',
    blockNumber,
  })
  const entities: [Erc7562Entity, Hex][] = [
    ['factory', userOp.initCode],
    ['account', userOp.sender],
    ['paymaster', userOp.paymasterAndData],
  ]
  const stakes: Partial<Record<Erc7562Entity, Erc7562Stake>> = {}
  for (const [entity, field] of entities) {
    if (field.length < 42) continue
    stakes[entity] = await readStake(client, {
      entryPoint,
      address: slice(field, 0, 20),
      blockNumber,
      ...(parameters.minStake !== undefined ? { minStake: parameters.minStake } : {}),
      ...(parameters.minUnstakeDelay !== undefined ? { minUnstakeDelay: parameters.minUnstakeDelay } : {}),
    })
  }

  const beneficiary = parameters.beneficiary ?? '0x000000000000000000000000000000000000dEaD'
  const data = encodeFunctionData({
    abi: entryPointAbi,
    functionName: 'handleOps',
    args: [[userOp], beneficiary],
  })
  const trace = (await client.request({
    method: 'debug_traceCall' as never,
    params: [
      { from: beneficiary, to: entryPoint, data, gas: numberToHex(block.gasLimit) },
      numberToHex(blockNumber),
      { enableMemory: true, disableStack: false, disableStorage: true, enableReturnData: false },
    ] as never,
  })) as { structLogs: StructLog[] }

  // Code presence before the op, for every address the validation calls or inspects.
  const targets = new Set<string>()
  for (const step of trace.structLogs) {
    if (callOpcodes.has(step.op)) targets.add(toAddress(peek(step, 1)).toLowerCase())
    else if (extCodeOpcodes.has(step.op)) targets.add(toAddress(peek(step, 0)).toLowerCase())
  }
  const withCode = new Set<string>()
  for (const target of targets) {
    const code = await client.request({
      method: 'eth_getCode',
      params: [target as Address, numberToHex(blockNumber)],
    })
    if (code && code !== '0x') withCode.add(target)
  }
  const report = analyzeValidationTrace(trace.structLogs, {
    userOp,
    entryPoint,
    senderCreator,
    stakes,
    hasCode: (address) => withCode.has(address.toLowerCase()),
    ...(parameters.precompiles ? { precompiles: parameters.precompiles } : {}),
  })
  return { ...report, stakes }
}

/** One line per violation, e.g. for an assertion message. */
export function formatViolations(violations: readonly Erc7562Violation[]): string {
  return violations
    .map(
      (v) =>
        `${v.rule} ${v.entity} ${v.contract} ${v.opcode}${v.slot ? ` ${v.slot}` : ''}${v.target ? ` -> ${v.target}` : ''}: ${v.description}`,
    )
    .join('\n')
}
