/**
 * The walk over a validation trace: splits the steps into the phases of the op's entities and applies the rules of
 * ./rules.ts to each (docs/erc7562.md).
 */
import { type Address, getAddress, getContractAddress, keccak256, slice, zeroAddress } from 'viem'
import {
  associatedSpan,
  bannedOpcodes,
  beforeExecutionTopic,
  callOpcodes,
  createOpcodes,
  defaultPrecompiles,
  depositToSelector,
  type Erc7562Context,
  type Erc7562Entity,
  type Erc7562Report,
  type Erc7562Violation,
  extCodeOpcodes,
  knownOpcodes,
  precompileRangeEnd,
  stakedOnlyOpcodes,
  storageOpcodes,
} from './rules.js'
import { peek, readMemory, type StructLog, same, toAddress, toSlot } from './structLog.js'

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
