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
  getContractAddress,
  type Hex,
  http,
  keccak256,
  numberToHex,
  pad,
  parseAbi,
  slice,
  toFunctionSelector,
  zeroAddress,
} from 'viem'
import type { PackedUserOperation } from 'viem/account-abstraction'
import { getBlock, readContract } from 'viem/actions'

/** A validation phase, named after the entity it is attributed to. */
export type Erc7562Entity = 'factory' | 'account' | 'paymaster'

/** The ERC-7562 rules this checker applies (ids of the ERC). */
export type Erc7562Rule =
  | 'OP-011'
  | 'OP-012'
  | 'OP-013'
  | 'OP-020'
  | 'OP-031'
  | 'OP-041'
  | 'OP-054'
  | 'OP-061'
  | 'OP-062'
  | 'OP-080'
  | 'STO-022'
  | 'STO-031'
  | 'STO-032'
  | 'STO-033'

/** One broken rule, reported once per phase and (contract, opcode, target or slot). */
export type Erc7562Violation = {
  rule: Erc7562Rule
  /** The phase it happened in. */
  entity: Erc7562Entity
  /** The entity of that phase (factory, sender or paymaster). */
  entityAddress: Address
  /**
   * Opcode rules: the contract whose code ran the opcode. Storage rules: the contract whose storage was
   * accessed.
   */
  contract: Address
  /** The opcode (`SSTORE` for a storage slot that was written, else `SLOAD`; `TSTORE` / `TLOAD` likewise). */
  opcode: string
  /** Storage rules: the slot. */
  slot?: Hex
  /** Calls, `EXTCODE*`, `CREATE*`: the address called, inspected or created. */
  target?: Address
  /** What happened, in words. */
  description: string
}

/** An entity's stake as the EntryPoint reports it (`getDepositInfo`), and whether it counts as staked. */
export type Erc7562Stake = {
  address: Address
  deposit: bigint
  /** The EntryPoint's flag: false once `unlockStake` was called. */
  locked: boolean
  stake: bigint
  unstakeDelaySec: number
  /** Locked, stake ≥ `minStake` and unstake delay ≥ `minUnstakeDelay`. */
  staked: boolean
}

/** The phases found in the trace, in order, with the number of steps each ran. */
export type Erc7562Phase = { entity: Erc7562Entity; address: Address; steps: number }

/** What {@link analyzeValidationTrace} and {@link checkUserOperation} return. */
export type Erc7562Report = {
  violations: Erc7562Violation[]
  phases: Erc7562Phase[]
  /** The EntryPoint reached `BeforeExecution`: the validation (signature included) succeeded. */
  validated: boolean
}

/** A step of the default struct logger (geth / anvil `debug_traceCall`). */
export type StructLog = {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  stack?: string[]
  memory?: string[]
  error?: string
}

/**
 * `MIN_STAKE_VALUE`: ERC-7562 leaves it per chain ("~$1000 in native tokens"); 1 ETH is the default of the
 * public bundlers (Alto `--min-entity-stake 1`, Rundler `--min_stake_value 10^18`).
 */
export const defaultMinStake = 10n ** 18n
/** `MIN_UNSTAKE_DELAY` of ERC-7562: one day. */
export const defaultMinUnstakeDelay = 86_400
/**
 * Precompiles validation may call (OP-062): the core 0x01 to 0x09 and the secp256r1 verifier at 0x100
 * (RIP-7212 / EIP-7951, on chains that have it: Osaka has).
 */
export const defaultPrecompiles: readonly Address[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0x100].map(
  (n) => pad(numberToHex(n), { size: 20 }) as Address,
)
/** The highest address a precompile may have (Osaka: 0x01 to 0x11, and 0x100). */
const precompileRangeEnd = 0x100n

/** The context {@link analyzeValidationTrace} needs besides the trace. */
export type Erc7562Context = {
  userOp: PackedUserOperation
  entryPoint: Address
  /** The EntryPoint's SenderCreator (`senderCreator()` of EntryPoint v0.8). */
  senderCreator: Address
  /** Stakes of the op's entities (a missing one counts as unstaked). */
  stakes: Partial<Record<Erc7562Entity, Erc7562Stake>>
  /** Whether an address had code before the op (the sender created by the factory is known from the trace). */
  hasCode: (address: Address) => boolean
  precompiles?: readonly Address[]
}

// OP-011 (ERC-7562) plus BLOBHASH / BLOBBASEFEE, the environment opcodes added since (Cancun); public bundlers
// block them too. CREATE is handled with OP-031 (one creation, of the sender, by the factory).
const bannedOpcodes = new Set([
  'ORIGIN',
  'GASPRICE',
  'BLOCKHASH',
  'COINBASE',
  'TIMESTAMP',
  'NUMBER',
  'DIFFICULTY',
  'PREVRANDAO',
  'GASLIMIT',
  'BASEFEE',
  'BLOBHASH',
  'BLOBBASEFEE',
  'INVALID',
  'SELFDESTRUCT',
])
const stakedOnlyOpcodes = new Set(['BALANCE', 'SELFBALANCE'])
const callOpcodes = new Set(['CALL', 'CALLCODE', 'DELEGATECALL', 'STATICCALL'])
const createOpcodes = new Set(['CREATE', 'CREATE2'])
const extCodeOpcodes = new Set(['EXTCODESIZE', 'EXTCODEHASH', 'EXTCODECOPY'])
const storageOpcodes = new Set(['SLOAD', 'SSTORE', 'TLOAD', 'TSTORE'])
/** Every assigned opcode of the Osaka EVM (OP-013: anything else is banned). */
const knownOpcodes = new Set([
  ...'STOP ADD MUL SUB DIV SDIV MOD SMOD ADDMOD MULMOD EXP SIGNEXTEND LT GT SLT SGT EQ ISZERO AND OR XOR NOT BYTE SHL SHR SAR CLZ'.split(
    ' ',
  ),
  ...'KECCAK256 SHA3 ADDRESS BALANCE ORIGIN CALLER CALLVALUE CALLDATALOAD CALLDATASIZE CALLDATACOPY CODESIZE CODECOPY GASPRICE'.split(
    ' ',
  ),
  ...'EXTCODESIZE EXTCODECOPY RETURNDATASIZE RETURNDATACOPY EXTCODEHASH BLOCKHASH COINBASE TIMESTAMP NUMBER DIFFICULTY'.split(
    ' ',
  ),
  ...'PREVRANDAO GASLIMIT CHAINID SELFBALANCE BASEFEE BLOBHASH BLOBBASEFEE POP MLOAD MSTORE MSTORE8 SLOAD SSTORE JUMP JUMPI'.split(
    ' ',
  ),
  ...'PC MSIZE GAS JUMPDEST TLOAD TSTORE MCOPY PUSH0 CREATE CALL CALLCODE RETURN DELEGATECALL CREATE2 STATICCALL REVERT'.split(
    ' ',
  ),
  'INVALID',
  'SELFDESTRUCT',
  ...Array.from({ length: 32 }, (_, i) => `PUSH${i + 1}`),
  ...Array.from({ length: 16 }, (_, i) => `DUP${i + 1}`),
  ...Array.from({ length: 16 }, (_, i) => `SWAP${i + 1}`),
  ...Array.from({ length: 5 }, (_, i) => `LOG${i}`),
])

/** `keccak256("BeforeExecution()")`: the EntryPoint emits it once every op of the bundle is validated. */
const beforeExecutionTopic = keccak256(new TextEncoder().encode('BeforeExecution()'))
const depositToSelector = toFunctionSelector('depositTo(address)')
/** Associated storage: `keccak(A ‖ x) + n` with n below this (ERC-7562 "0..128", as bundlers implement it). */
const associatedSpan = 128n

const strip = (hex: string) => (hex.startsWith('0x') ? hex.slice(2) : hex)
const word = (value: string | undefined): bigint =>
  value === undefined ? 0n : BigInt(`0x${strip(value) || '0'}`)
const toAddress = (value: bigint): Address =>
  getAddress(`0x${(value & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`)
const toSlot = (value: bigint): Hex => `0x${value.toString(16).padStart(64, '0')}`
const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase()
/** The `n`-th stack item from the top (0 = top). */
const peek = (step: StructLog, n: number): bigint => word(step.stack?.[(step.stack?.length ?? 0) - 1 - n])

/** `size` bytes of the step's memory (before the step ran) from `offset`, zero-filled past its end. */
function readMemory(step: StructLog, offset: bigint, size: bigint): Hex {
  if (size === 0n) return '0x'
  if (size > 1_000_000n || offset > 100_000_000n) throw new Error(`Unreasonable memory read at ${offset}`)
  const start = Number(offset)
  const end = start + Number(size)
  const first = Math.floor(start / 32)
  const last = Math.ceil(end / 32)
  let hex = ''
  for (let index = first; index < last; index++) hex += strip(step.memory?.[index] ?? '').padEnd(64, '0')
  return `0x${hex.slice((start - first * 32) * 2, (end - first * 32) * 2)}`
}

type Frame = {
  /** Depth of the steps that run in this frame. */
  depth: number
  /** The contract whose code runs. */
  code: Address
  /** The contract whose storage it uses (the caller's for DELEGATECALL / CALLCODE). */
  storage: Address
  phase: PhaseState | undefined
}

type Access = { opcode: string; write: boolean }

type PhaseState = {
  entity: Erc7562Entity
  address: Address
  steps: number
  /** Per storage owner, per `slot` (prefixed `t:` for transient storage): first opcode, written or not. */
  accesses: Map<Address, Map<string, Access>>
  creations: number
}

/**
 * Applies the ERC-7562 rules to the struct logs of `EntryPoint.handleOps([context.userOp], …)` (the first step
 * runs in the EntryPoint). Pure: stakes and code presence come from `context`.
 */
export function analyzeValidationTrace(logs: readonly StructLog[], context: Erc7562Context): Erc7562Report {
  const { userOp, entryPoint, senderCreator } = context
  const sender = getAddress(userOp.sender)
  const factory = userOp.initCode.length >= 42 ? getAddress(slice(userOp.initCode, 0, 20)) : undefined
  const paymaster =
    userOp.paymasterAndData.length >= 42 ? getAddress(slice(userOp.paymasterAndData, 0, 20)) : undefined
  const entityAddress: Record<Erc7562Entity, Address | undefined> = { factory, account: sender, paymaster }
  const precompiles = new Set((context.precompiles ?? defaultPrecompiles).map((a) => a.toLowerCase()))
  const isStaked = (entity: Erc7562Entity) => context.stakes[entity]?.staked === true
  const stakeText = (entity: Erc7562Entity) => {
    const stake = context.stakes[entity]
    if (!stake) return 'unstaked'
    if (!stake.locked && stake.stake > 0n) return 'unstaked (stake unlocked)'
    return `unstaked (stake ${stake.stake} wei, unstake delay ${stake.unstakeDelaySec} s)`
  }

  const violations: Erc7562Violation[] = []
  const seen = new Set<string>()
  const report = (phase: PhaseState, violation: Omit<Erc7562Violation, 'entity' | 'entityAddress'>) => {
    const { rule, contract, opcode, target, slot } = violation
    const key = [phase.entity, rule, contract, opcode, target, slot].join('|').toLowerCase()
    if (seen.has(key)) return
    seen.add(key)
    violations.push({ ...violation, entity: phase.entity, entityAddress: phase.address })
  }

  // Where each call frame returns (the caller's next step): a CREATE's address is on its stack top there.
  const returnsAt = new Map<number, number>()
  {
    const open: number[] = []
    for (let index = 0; index < logs.length; index++) {
      const step = logs[index]!
      while (open.length > 0 && logs[open.at(-1)!]!.depth >= step.depth) returnsAt.set(open.pop()!, index)
      const next = logs[index + 1]
      if ((callOpcodes.has(step.op) || createOpcodes.has(step.op)) && next && next.depth === step.depth + 1)
        open.push(index)
    }
  }

  /** The address a CREATE / CREATE2 step deploys to (CREATE: read where it returns, if it succeeded). */
  const createdAddress = (index: number, frame: Frame): Address | undefined => {
    const step = logs[index]!
    if (step.op === 'CREATE2')
      return getContractAddress({
        opcode: 'CREATE2',
        from: frame.storage,
        salt: toSlot(peek(step, 3)),
        bytecodeHash: keccak256(readMemory(step, peek(step, 1), peek(step, 2))),
      })
    // Where it returns; an empty init code runs no step, the result is on the next step's stack.
    const next = logs[index + 1]
    const returned = returnsAt.get(index) ?? (next?.depth === step.depth ? index + 1 : undefined)
    const address = returned === undefined ? 0n : peek(logs[returned]!, 0)
    return address === 0n ? undefined : toAddress(address)
  }
  const created = new Set<string>()
  const hasCode = (address: Address) => created.has(address.toLowerCase()) || context.hasCode(address)
  const isPrecompileRange = (address: Address) => {
    const value = BigInt(address)
    return value > 0n && value <= precompileRangeEnd && (value <= 0x11n || value === precompileRangeEnd)
  }
  // keccak(A ‖ …) results, per A among the entities: the bases of their associated slots.
  const preimages: { first: bigint; hash: bigint }[] = []
  const phases: PhaseState[] = []
  const root = logs[0]?.depth ?? 1
  const frames: Frame[] = [{ depth: root, code: entryPoint, storage: entryPoint, phase: undefined }]
  let validated = false

  for (let index = 0; index < logs.length; index++) {
    const step = logs[index]!
    while (frames.length > 1 && frames.at(-1)!.depth > step.depth) frames.pop()
    const frame = frames.at(-1)!
    const next = logs[index + 1]
    const entersFrame = next !== undefined && next.depth === step.depth + 1

    if (step.depth === root) {
      if (step.op === 'LOG1' && toSlot(peek(step, 2)) === beforeExecutionTopic) {
        validated = true
        break
      }
      if (callOpcodes.has(step.op) && entersFrame) {
        const target = toAddress(peek(step, 1))
        const entity: Erc7562Entity | undefined = same(target, senderCreator)
          ? 'factory'
          : same(target, sender)
            ? 'account'
            : same(target, paymaster)
              ? 'paymaster'
              : undefined
        const address = entity && entityAddress[entity]
        const phase =
          entity && address ? { entity, address, steps: 0, accesses: new Map(), creations: 0 } : undefined
        if (phase) phases.push(phase)
        frames.push({ depth: step.depth + 1, code: target, storage: target, phase })
      }
      continue
    }

    const phase = frame.phase
    if (!phase) {
      if (entersFrame) frames.push({ ...frame, depth: step.depth + 1 })
      continue
    }
    phase.steps++
    const op = step.op
    const contract = frame.code

    if (step.error !== undefined && /gas/i.test(step.error)) {
      report(phase, {
        rule: 'OP-020',
        contract,
        opcode: op,
        description: `${op} ran out of gas (${step.error})`,
      })
    } else if (
      (!callOpcodes.has(op) && !createOpcodes.has(op) && step.gas < step.gasCost) ||
      (op === 'SSTORE' && step.gas <= 2300)
    ) {
      report(phase, { rule: 'OP-020', contract, opcode: op, description: `${op} ran out of gas` })
    }

    if (!knownOpcodes.has(op)) {
      report(phase, { rule: 'OP-013', contract, opcode: op, description: `unassigned opcode ${op}` })
    } else if (bannedOpcodes.has(op)) {
      report(phase, { rule: 'OP-011', contract, opcode: op, description: `banned opcode ${op}` })
    } else if (stakedOnlyOpcodes.has(op) && !isStaked(phase.entity)) {
      report(phase, {
        rule: 'OP-080',
        contract,
        opcode: op,
        description: `${op} in the phase of an ${stakeText(phase.entity)} ${phase.entity}`,
      })
    } else if (op === 'GAS' && !(next && callOpcodes.has(next.op))) {
      report(phase, {
        rule: 'OP-012',
        contract,
        opcode: op,
        description: `GAS followed by ${next?.op ?? 'nothing'}, not by a CALL-family opcode`,
      })
    } else if (op === 'KECCAK256') {
      const size = peek(step, 1)
      if (size >= 32n) {
        const preimage = readMemory(step, peek(step, 0), size)
        const hash =
          next && next.depth === step.depth && next.stack?.length
            ? peek(next, 0)
            : BigInt(keccak256(preimage))
        preimages.push({ first: BigInt(slice(preimage, 0, 32)), hash })
      }
    } else if (storageOpcodes.has(op)) {
      const transient = op === 'TLOAD' || op === 'TSTORE'
      const key = `${transient ? 't:' : ''}${toSlot(peek(step, 0))}`
      const owner = frame.storage
      const slots = phase.accesses.get(owner) ?? new Map<string, Access>()
      phase.accesses.set(owner, slots)
      const write = op === 'SSTORE' || op === 'TSTORE'
      const known = slots.get(key)
      if (!known) slots.set(key, { opcode: op, write })
      else if (write && !known.write) slots.set(key, { opcode: op, write })
    } else if (extCodeOpcodes.has(op)) {
      const target = toAddress(peek(step, 0))
      if (same(target, entryPoint)) {
        if (!(op === 'EXTCODESIZE' && next?.op === 'ISZERO'))
          report(phase, {
            rule: 'OP-054',
            contract,
            opcode: op,
            target,
            description: `${op} of the EntryPoint (only EXTCODESIZE followed by ISZERO is allowed)`,
          })
      } else if (
        !hasCode(target) &&
        !precompiles.has(target.toLowerCase()) &&
        !(phase.entity === 'factory' && same(target, sender))
      ) {
        report(phase, {
          rule: 'OP-041',
          contract,
          opcode: op,
          target,
          description: `${op} of ${target}, which has no code`,
        })
      }
    } else if (callOpcodes.has(op)) {
      const target = toAddress(peek(step, 1))
      const hasValue = op === 'CALL' || op === 'CALLCODE'
      const value = hasValue ? peek(step, 2) : 0n
      const argsOffset = peek(step, hasValue ? 3 : 2)
      const argsSize = peek(step, hasValue ? 4 : 3)
      if (same(target, entryPoint)) {
        const input = readMemory(step, argsOffset, argsSize > 36n ? 36n : argsSize)
        const caller = frame.storage
        const fallback = input === '0x' && op === 'CALL' && same(caller, sender)
        const deposit =
          op === 'CALL' &&
          argsSize >= 36n &&
          slice(input, 0, 4) === depositToSelector &&
          same(toAddress(BigInt(slice(input, 4, 36))), sender) &&
          (same(caller, sender) || same(caller, factory))
        if (!fallback && !deposit)
          report(phase, {
            rule: 'OP-054',
            contract,
            opcode: op,
            target,
            description: `${op} to the EntryPoint with ${input === '0x' ? 'empty calldata' : slice(input, 0, Math.min(4, (input.length - 2) / 2))} from ${caller} (only depositTo(sender) from the sender or factory, and the fallback from the sender)`,
          })
      } else {
        if (value > 0n)
          report(phase, {
            rule: 'OP-061',
            contract,
            opcode: op,
            target,
            description: `${op} with value ${value} to ${target} (value may only go to the EntryPoint)`,
          })
        if (precompiles.has(target.toLowerCase())) {
          // Allowed precompile (OP-062).
        } else if (isPrecompileRange(target) && !hasCode(target)) {
          report(phase, {
            rule: 'OP-062',
            contract,
            opcode: op,
            target,
            description: `${op} to precompile ${target}, not allowed`,
          })
        } else if (!hasCode(target) && !(phase.entity === 'factory' && same(target, sender))) {
          report(phase, {
            rule: 'OP-041',
            contract,
            opcode: op,
            target,
            description: `${op} to ${target}, which has no code`,
          })
        }
      }
    } else if (createOpcodes.has(op)) {
      const address = createdAddress(index, frame)
      if (address) created.add(address.toLowerCase())
      const allowed = phase.entity === 'factory' && phase.creations === 0 && same(address, sender)
      phase.creations++
      if (!allowed)
        report(phase, {
          rule: op === 'CREATE' ? 'OP-011' : 'OP-031',
          contract,
          opcode: op,
          ...(address ? { target: address } : {}),
          description: `${op} of ${address ?? 'an unknown address'} (only one creation, of the sender, by the factory)`,
        })
    }

    if (entersFrame) {
      if (callOpcodes.has(op)) {
        const target = toAddress(peek(step, 1))
        const delegate = op === 'DELEGATECALL' || op === 'CALLCODE'
        frames.push({
          depth: step.depth + 1,
          code: target,
          storage: delegate ? frame.storage : target,
          phase,
        })
      } else if (createOpcodes.has(op)) {
        const address = createdAddress(index, frame) ?? zeroAddress
        frames.push({ depth: step.depth + 1, code: address, storage: address, phase })
      } else {
        frames.push({ ...frame, depth: step.depth + 1 })
      }
    }
  }

  // Associated slots (ERC-7562): the address itself, or keccak(A ‖ …) + n, n < 128.
  const bases = new Map<string, bigint[]>()
  for (const address of [sender, factory, paymaster]) {
    if (!address) continue
    const padded = BigInt(address)
    bases.set(
      address.toLowerCase(),
      preimages.filter((p) => p.first === padded).map((p) => p.hash),
    )
  }
  const associated = (slot: bigint, address: Address | undefined) =>
    address !== undefined &&
    (slot === BigInt(address) ||
      (bases.get(address.toLowerCase()) ?? []).some((base) => slot >= base && slot - base < associatedSpan))
  const entities = [sender, factory, paymaster].filter((a): a is Address => a !== undefined)

  for (const phase of phases) {
    const staked = isStaked(phase.entity)
    for (const [owner, slots] of phase.accesses) {
      // STO-010: the sender's own storage. The EntryPoint's (deposits, during depositTo) is the bundler's own.
      if (same(owner, sender) || same(owner, entryPoint)) continue
      for (const [key, access] of slots) {
        const slot = BigInt(key.replace('t:', ''))
        const slotHex = toSlot(slot)
        const ofSender = associated(slot, sender)
        // STO-021: the sender exists; STO-022: it is being deployed by a staked factory.
        if (ofSender && (!factory || isStaked('factory'))) continue
        const where = `${access.write ? 'writes' : 'reads'} ${owner} slot ${slotHex}`
        const base = { contract: owner, opcode: access.opcode, slot: slotHex }
        const ofEntity = associated(slot, phase.address)
        const ofAnotherEntity = entities.some((e) => same(e, owner))
        if (same(owner, phase.address)) {
          // STO-031: the entity's own storage.
          if (!staked)
            report(phase, {
              rule: 'STO-031',
              ...base,
              description: `${stakeText(phase.entity)} ${phase.entity} ${where}, its own storage`,
            })
        } else if (ofSender) {
          // Associated with a sender being deployed: needs a staked factory (STO-022), unless a staked entity
          // reads it (STO-033) or it is also the entity's (STO-032).
          if (!(staked && (ofEntity || (!access.write && !ofAnotherEntity))))
            report(phase, {
              rule: 'STO-022',
              ...base,
              description: `${phase.entity} ${where}, associated with the sender, while the sender is deployed by an ${stakeText('factory')} factory`,
            })
        } else if (ofEntity) {
          // STO-032: storage associated with the entity.
          if (!staked)
            report(phase, {
              rule: 'STO-032',
              ...base,
              description: `${stakeText(phase.entity)} ${phase.entity} ${where}, associated with it`,
            })
        } else if (!staked || access.write || ofAnotherEntity) {
          // STO-033: a staked entity may read any storage of a non-entity contract; nobody may write it.
          report(phase, {
            rule: 'STO-033',
            ...base,
            description: access.write
              ? `${phase.entity} ${where}, not associated with the sender or the ${phase.entity} (such slots are read-only, and only for staked entities)`
              : `${stakeText(phase.entity)} ${phase.entity} ${where}, not associated with the sender or the ${phase.entity}`,
          })
        }
      }
    }
  }

  return {
    violations,
    phases: phases.map(({ entity, address, steps }) => ({ entity, address, steps })),
    validated,
  }
}

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
