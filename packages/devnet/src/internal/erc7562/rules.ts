/**
 * The ERC-7562 rules as data: the report's types, the entities' defaults (stake, unstake delay, precompiles) and
 * the opcode tables the trace walk applies (docs/erc7562.md).
 */
import { type Address, type Hex, keccak256, numberToHex, pad, toFunctionSelector } from 'viem'
import type { PackedUserOperation } from 'viem/account-abstraction'

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
export const precompileRangeEnd = 0x100n

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
export const bannedOpcodes = new Set([
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
export const stakedOnlyOpcodes = new Set(['BALANCE', 'SELFBALANCE'])
export const callOpcodes = new Set(['CALL', 'CALLCODE', 'DELEGATECALL', 'STATICCALL'])
export const createOpcodes = new Set(['CREATE', 'CREATE2'])
export const extCodeOpcodes = new Set(['EXTCODESIZE', 'EXTCODEHASH', 'EXTCODECOPY'])
export const storageOpcodes = new Set(['SLOAD', 'SSTORE', 'TLOAD', 'TSTORE'])
/** Every assigned opcode of the Osaka EVM (OP-013: anything else is banned). */
export const knownOpcodes = new Set([
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
export const beforeExecutionTopic = keccak256(new TextEncoder().encode('BeforeExecution()'))
export const depositToSelector = toFunctionSelector('depositTo(address)')
/** Associated storage: `keccak(A ‖ x) + n` with n below this (ERC-7562 "0..128", as bundlers implement it). */
export const associatedSpan = 128n
