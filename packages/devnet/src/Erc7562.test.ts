/**
 * The ERC-7562 checker on real traces: tiny contracts written in raw bytecode (an account, a paymaster, a
 * factory, storage contracts) break one rule each, and the checker must report exactly that violation, on a
 * private anvil with the canonical EntryPoint v0.8 (`startStack({ contracts: false })`). A few pure tests feed
 * {@link analyzeValidationTrace} crafted steps for what anvil cannot produce on demand.
 */

import { entryPoint08 } from '@sso/contracts-abi'
import {
  type Address,
  concat,
  createTestClient,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  getContractAddress,
  type Hex,
  http,
  keccak256,
  numberToHex,
  pad,
  parseAbi,
  parseEther,
  publicActions,
  size,
  toHex,
  walletActions,
} from 'viem'
import type { PackedUserOperation } from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkUserOperation, type Erc7562Check } from './Erc7562.js'
import { defaultPrecompiles, type Erc7562Violation } from './internal/erc7562/rules.js'
import type { StructLog } from './internal/erc7562/structLog.js'
import { analyzeValidationTrace } from './internal/erc7562/trace.js'
import { anvilKeys, type Stack, startStack } from './Stack.js'

// ---------------------------------------------------------------------------------------------------------------
// A tiny assembler: opcode names, numbers (pushed with the shortest PUSH) and `{ push: hex }` / `{ raw: hex }`.
// ---------------------------------------------------------------------------------------------------------------

const opcodes: Record<string, number> = {
  STOP: 0x00,
  ADD: 0x01,
  ISZERO: 0x15,
  KECCAK256: 0x20,
  ADDRESS: 0x30,
  BALANCE: 0x31,
  ORIGIN: 0x32,
  CALLER: 0x33,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  CALLDATACOPY: 0x37,
  GASPRICE: 0x3a,
  EXTCODESIZE: 0x3b,
  EXTCODEHASH: 0x3f,
  BLOCKHASH: 0x40,
  COINBASE: 0x41,
  TIMESTAMP: 0x42,
  NUMBER: 0x43,
  PREVRANDAO: 0x44,
  GASLIMIT: 0x45,
  CHAINID: 0x46,
  SELFBALANCE: 0x47,
  BASEFEE: 0x48,
  BLOBHASH: 0x49,
  BLOBBASEFEE: 0x4a,
  POP: 0x50,
  MSTORE: 0x52,
  SLOAD: 0x54,
  SSTORE: 0x55,
  GAS: 0x5a,
  TLOAD: 0x5c,
  TSTORE: 0x5d,
  PUSH0: 0x5f,
  SWAP1: 0x90,
  CREATE: 0xf0,
  CALL: 0xf1,
  RETURN: 0xf3,
  CREATE2: 0xf5,
  STATICCALL: 0xfa,
  INVALID: 0xfe,
  SELFDESTRUCT: 0xff,
}
type Part = string | number | bigint | { push: Hex } | { raw: Hex } | Part[]

function asm(...parts: Part[]): Hex {
  const out: Hex[] = []
  const emit = (part: Part) => {
    if (Array.isArray(part)) for (const p of part) emit(p)
    else if (typeof part === 'string') {
      const code = opcodes[part]
      if (code === undefined) throw new Error(`asm: unknown opcode ${part}`)
      out.push(toHex(code, { size: 1 }))
    } else if (typeof part === 'object' && 'raw' in part) out.push(part.raw)
    else {
      const value = typeof part === 'object' ? BigInt(part.push) : BigInt(part)
      const bytes =
        typeof part === 'object'
          ? size(part.push)
          : value === 0n
            ? 0
            : Math.ceil(value.toString(16).length / 2)
      out.push(
        bytes === 0 ? '0x5f' : concat([toHex(0x5f + bytes, { size: 1 }), toHex(value, { size: bytes })]),
      )
    }
  }
  for (const part of parts) emit(part)
  return concat(out)
}
/** Init code that deploys `runtime` as is. */
const initCodeOf = (runtime: Hex): Hex =>
  concat([
    asm(
      { push: toHex(size(runtime), { size: 2 }) },
      { raw: '0x80' },
      { push: '0x000b' },
      0,
      { raw: '0x39' },
      0,
      'RETURN',
    ),
    runtime,
  ])
/** `CALL`-family to `target` with `words` as calldata (memory 0..), result dropped. */
const call = (
  target: Address,
  words: (Hex | bigint)[] = [],
  options: { value?: Part; gas?: Part; op?: string } = {},
) => {
  const op = options.op ?? 'CALL'
  return [
    words.map((w, i) => [
      { push: typeof w === 'bigint' ? numberToHex(w, { size: 32 }) : pad(w) },
      i * 32,
      'MSTORE',
    ]),
    0,
    0,
    words.length * 32,
    0,
    op === 'CALL' ? (options.value ?? 0) : [],
    { push: target },
    options.gas ?? 'GAS',
    op,
    'POP',
  ]
}
/** Returns 32 zero bytes: validationData 0 (valid, no time range). */
const returnValid = asm(0, 0, 'MSTORE', 32, 0, 'RETURN')
/** Returns `abi.encode(bytes(""), uint256(0))`: no context, valid. */
const returnPaymasterValid = asm(0x40, 0, 'MSTORE', 0, 0x20, 'MSTORE', 0, 0x40, 'MSTORE', 0x60, 0, 'RETURN')
/** `keccak256(word ‖ 0) + n` where word = calldata[0:32], n = calldata[32:64]: a mapping slot (or a struct field). */
const mappingSlot = [
  'PUSH0',
  'CALLDATALOAD',
  0,
  'MSTORE',
  0,
  0x20,
  'MSTORE',
  0x40,
  0,
  'KECCAK256',
  0x20,
  'CALLDATALOAD',
  'ADD',
]

// Non-entity contracts at fixed addresses.
const at = (n: number): Address => getAddress(pad(numberToHex(0x7562_0000 + n), { size: 20 }))
const contracts = {
  /** Writes 1 to calldata[0:32]. */
  slotWriter: { address: at(1), code: asm(1, 0, 'CALLDATALOAD', 'SSTORE', 'STOP') },
  /** Reads calldata[0:32]. */
  slotReader: { address: at(2), code: asm(0, 'CALLDATALOAD', 'SLOAD', 'POP', 'STOP') },
  /** Writes 1 to `keccak(calldata[0:32] ‖ 0) + calldata[32:64]`. */
  mappingWriter: { address: at(3), code: asm(1, mappingSlot, 'SSTORE', 'STOP') },
  /** Reads `keccak(calldata[0:32] ‖ 0) + calldata[32:64]`. */
  mappingReader: { address: at(4), code: asm(mappingSlot, 'SLOAD', 'POP', 'STOP') },
  /** Transient write to calldata[0:32]. */
  transientWriter: { address: at(5), code: asm(1, 0, 'CALLDATALOAD', 'TSTORE', 'STOP') },
  invalid: { address: at(6), code: asm('INVALID') },
  selfDestruct: { address: at(7), code: asm(0, 'SELFDESTRUCT') },
  unassigned: { address: at(8), code: '0x0c' as Hex },
  returns: { address: at(9), code: asm('STOP') },
}
const noCode = at(0xdead)

const entryPoint = entryPoint08.address
const entryPointAbi = parseAbi([
  'function depositTo(address account) payable',
  'function addStake(uint32 unstakeDelaySec) payable',
  'function balanceOf(address account) view returns (uint256)',
])
const depositToData = (account: Address) =>
  encodeFunctionData({ abi: entryPointAbi, functionName: 'depositTo', args: [account] })

describe('ERC-7562 checker on real traces of tiny contracts', () => {
  let stack: Stack
  let client: ReturnType<typeof makeClient>
  let counter = 0
  const makeClient = (url: string) =>
    createTestClient({ mode: 'anvil', transport: http(url) })
      .extend(publicActions)
      .extend(walletActions)

  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true, contracts: false })
    client = makeClient(stack.rpcUrl)
    for (const { address, code } of Object.values(contracts))
      await client.setCode({ address, bytecode: code })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const send = async (from: Address, to: Address, data: Hex, value = 0n) => {
    await client.impersonateAccount({ address: from })
    await client.setBalance({ address: from, value: parseEther('100') })
    const hash = await client.sendTransaction({ account: from, chain: null, to, data, value })
    const receipt = await client.waitForTransactionReceipt({ hash })
    await client.stopImpersonatingAccount({ address: from })
    expect(receipt.status).toBe('success')
  }
  /** A fresh address with `runtime` as code, an EntryPoint deposit and, if asked, a stake (added before the code). */
  const deploy = async (
    runtime: Hex,
    options: { stake?: bigint; unstakeDelay?: number; deposit?: boolean } = {},
  ) => {
    const address = at(0x1000 + counter++)
    if (options.stake !== undefined)
      await send(
        address,
        entryPoint,
        encodeFunctionData({
          abi: entryPointAbi,
          functionName: 'addStake',
          args: [options.unstakeDelay ?? 86_400],
        }),
        options.stake,
      )
    await client.setCode({ address, bytecode: runtime })
    if (options.deposit !== false)
      await send(anvilKeysAddress, entryPoint, depositToData(address), parseEther('1'))
    return address
  }
  const anvilKeysAddress = privateKeyToAccount(anvilKeys[0]).address

  const userOp = (fields: Partial<PackedUserOperation> & { sender: Address }): PackedUserOperation => ({
    nonce: 0n,
    initCode: '0x',
    callData: '0x',
    accountGasLimits: concat([
      pad(numberToHex(2_000_000), { size: 16 }),
      pad(numberToHex(100_000), { size: 16 }),
    ]),
    preVerificationGas: 50_000n,
    gasFees: concat([pad(numberToHex(10n ** 9n), { size: 16 }), pad(numberToHex(10n ** 9n), { size: 16 })]),
    paymasterAndData: '0x',
    signature: '0x',
    ...fields,
  })
  const paymasterAndData = (paymaster: Address) =>
    concat([paymaster, pad(numberToHex(500_000), { size: 16 }), pad('0x', { size: 16 })])
  const check = (op: PackedUserOperation, options: { minStake?: bigint; minUnstakeDelay?: number } = {}) =>
    checkUserOperation({ rpcUrl: stack.rpcUrl, userOp: op, ...options })
  /** The violations without their descriptions (which are checked separately where it matters). */
  const found = (report: Erc7562Check) => {
    expect(report.validated).toBe(true)
    return report.violations.map(({ description: _, ...violation }) => violation)
  }
  /** An existing account running `snippet` in validation (and execution), then returning "valid". */
  const account = (snippet: Part[], options: Parameters<typeof deploy>[1] = {}) =>
    deploy(asm(...snippet, { raw: returnValid }), options)
  const v = (violation: Omit<Erc7562Violation, 'description'>) => violation

  test('behavior: a compliant existing account (own storage, associated storage, precompiles) has no violation', async () => {
    const sender = await account([])
    const snippet = [
      [7, 'SLOAD', 'POP', 1, 7, 'SSTORE'], // STO-010: its own storage
      call(contracts.mappingWriter.address, [sender, 127n]), // STO-021: keccak(sender ‖ x) + 127
      call(contracts.slotWriter.address, [pad(sender)]), // the slot equal to the address
      call(defaultPrecompiles[1]!, [1n], { op: 'STATICCALL' }), // sha256
      call('0x0000000000000000000000000000000000000100', [1n], { op: 'STATICCALL' }), // P-256
      [{ push: entryPoint }, 'EXTCODESIZE', 'ISZERO', 'POP'], // OP-051
      call(entryPoint, [], { value: 0 }), // OP-053: the fallback, from the sender
    ]
    await client.setCode({ address: sender, bytecode: asm(...snippet, { raw: returnValid }) })
    const report = await check(userOp({ sender }))
    expect(found(report)).toEqual([])
    expect(report.phases).toEqual([{ entity: 'account', address: sender, steps: expect.any(Number) }])
  })

  test('behavior: OP-011 reports each banned opcode once, in the contract that ran it', async () => {
    const env = ['ORIGIN', 'GASPRICE', 'COINBASE', 'TIMESTAMP', 'NUMBER', 'PREVRANDAO', 'GASLIMIT', 'BASEFEE']
    const sender = await account([
      env.map((op) => [op, 'POP']),
      [0, 'BLOCKHASH', 'POP', 0, 'BLOBHASH', 'POP', 'BLOBBASEFEE', 'POP', 'TIMESTAMP', 'POP'],
      call(contracts.invalid.address, [], { gas: 1000 }),
      call(contracts.selfDestruct.address),
    ])
    const violations = found(await check(userOp({ sender })))
    const banned = (opcode: string, contract: Address = sender) =>
      v({ rule: 'OP-011', entity: 'account', entityAddress: sender, contract, opcode })
    expect(violations).toEqual([
      banned('ORIGIN'),
      banned('GASPRICE'),
      banned('COINBASE'),
      banned('TIMESTAMP'),
      banned('NUMBER'),
      // anvil names 0x44 after its pre-merge meaning
      banned('DIFFICULTY'),
      banned('GASLIMIT'),
      banned('BASEFEE'),
      banned('BLOCKHASH'),
      banned('BLOBHASH'),
      banned('BLOBBASEFEE'),
      banned('INVALID', contracts.invalid.address),
      banned('SELFDESTRUCT', contracts.selfDestruct.address),
    ])
  })

  test('behavior: OP-012 GAS not followed by a call, OP-013 an unassigned opcode', async () => {
    const sender = await account([['GAS', 'POP'], call(contracts.unassigned.address, [], { gas: 1000 })])
    const violations = found(await check(userOp({ sender })))
    expect(violations).toEqual([
      v({ rule: 'OP-012', entity: 'account', entityAddress: sender, contract: sender, opcode: 'GAS' }),
      v({
        rule: 'OP-013',
        entity: 'account',
        entityAddress: sender,
        contract: contracts.unassigned.address,
        // anvil names every unassigned opcode `Unknown` (geth: `opcode 0xc not defined`)
        opcode: 'Unknown',
      }),
    ])
  })

  test('behavior: OP-020 a frame that runs out of gas', async () => {
    const sender = await account([])
    // The slot is the sender's address (associated with it): only the out-of-gas is wrong.
    await client.setCode({
      address: sender,
      bytecode: asm(call(contracts.slotWriter.address, [pad(sender)], { gas: 2600 }), { raw: returnValid }),
    })
    const violations = found(await check(userOp({ sender })))
    expect(violations).toEqual([
      v({
        rule: 'OP-020',
        entity: 'account',
        entityAddress: sender,
        contract: contracts.slotWriter.address,
        opcode: 'SSTORE',
      }),
    ])
  })

  test('behavior: OP-031 / OP-011 creations outside the factory, OP-041 code access to an empty address, OP-061 value', async () => {
    const sender = await account([
      [0, 0, 0, 'CREATE', 'POP'],
      [0, 0, 0, 0, 'CREATE2', 'POP'],
      call(noCode, [1n]),
      [{ push: noCode }, 'EXTCODESIZE', 'POP'],
      call(contracts.returns.address, [], { value: 1 }),
    ])
    await client.setBalance({ address: sender, value: parseEther('1') })
    const violations = found(await check(userOp({ sender })))
    const empty = await client.getCode({ address: noCode })
    expect(empty).toBeUndefined()
    // anvil_setCode leaves the nonce at 0
    const created = (nonce: bigint) => getContractAddress({ from: sender, nonce })
    expect(violations).toEqual([
      v({
        rule: 'OP-011',
        entity: 'account',
        entityAddress: sender,
        contract: sender,
        opcode: 'CREATE',
        target: created(0n),
      }),
      v({
        rule: 'OP-031',
        entity: 'account',
        entityAddress: sender,
        contract: sender,
        opcode: 'CREATE2',
        target: getContractAddress({ opcode: 'CREATE2', from: sender, salt: pad('0x'), bytecode: '0x' }),
      }),
      v({
        rule: 'OP-041',
        entity: 'account',
        entityAddress: sender,
        contract: sender,
        opcode: 'CALL',
        target: noCode,
      }),
      v({
        rule: 'OP-041',
        entity: 'account',
        entityAddress: sender,
        contract: sender,
        opcode: 'EXTCODESIZE',
        target: noCode,
      }),
      v({
        rule: 'OP-061',
        entity: 'account',
        entityAddress: sender,
        contract: sender,
        opcode: 'CALL',
        target: contracts.returns.address,
      }),
    ])
  })

  test('behavior: OP-062 a precompile outside the allowed list (0x0a), allowed when listed', async () => {
    const kzg = getAddress('0x000000000000000000000000000000000000000a')
    // A failing precompile takes all the gas it gets: give it little.
    const sender = await account([call(kzg, [1n], { op: 'STATICCALL', gas: 5000 })])
    const violations = found(await check(userOp({ sender })))
    expect(violations).toEqual([
      v({
        rule: 'OP-062',
        entity: 'account',
        entityAddress: sender,
        contract: sender,
        opcode: 'STATICCALL',
        target: kzg,
      }),
    ])
    const allowed = await checkUserOperation({
      rpcUrl: stack.rpcUrl,
      userOp: userOp({ sender }),
      precompiles: [...defaultPrecompiles, kzg],
    })
    expect(found(allowed)).toEqual([])
  })

  test('behavior: OP-054 EntryPoint access: a view call, EXTCODEHASH, depositTo for someone else; depositTo(sender) is allowed', async () => {
    const other = at(0xbeef)
    const sender = await account([])
    // The calldata words of `call` are 32-byte aligned: write the selector + argument by hand instead.
    const depositCall = (account: Address) => {
      const data = depositToData(account) // 4 + 32 bytes
      return [
        { push: pad(data.slice(0, 2 + 64) as Hex, { dir: 'right' }) },
        0,
        'MSTORE',
        { push: pad(`0x${data.slice(2 + 64)}` as Hex, { dir: 'right' }) },
        32,
        'MSTORE',
        0,
        0,
        36,
        0,
        0,
        { push: entryPoint },
        'GAS',
        'CALL',
        'POP',
      ]
    }
    const balanceOfCall = () => {
      const data = encodeFunctionData({ abi: entryPointAbi, functionName: 'balanceOf', args: [other] })
      return [
        { push: pad(data.slice(0, 2 + 64) as Hex, { dir: 'right' }) },
        0,
        'MSTORE',
        { push: pad(`0x${data.slice(2 + 64)}` as Hex, { dir: 'right' }) },
        32,
        'MSTORE',
        32,
        0,
        36,
        0,
        { push: entryPoint },
        'GAS',
        'STATICCALL',
        'POP',
      ]
    }
    await client.setCode({
      address: sender,
      bytecode: asm(
        balanceOfCall(),
        [{ push: entryPoint }, 'EXTCODEHASH', 'POP'],
        depositCall(other),
        depositCall(sender),
        { raw: returnValid },
      ),
    })
    const violations = found(await check(userOp({ sender })))
    const ep = (opcode: string) =>
      v({
        rule: 'OP-054',
        entity: 'account',
        entityAddress: sender,
        contract: sender,
        opcode,
        target: entryPoint,
      })
    expect(violations).toEqual([ep('STATICCALL'), ep('EXTCODEHASH'), ep('CALL')])
  })

  test('behavior: STO-033 an existing account writes, or (unstaked) reads, storage not associated with it', async () => {
    const sender = await account([])
    await client.setCode({
      address: sender,
      bytecode: asm(
        call(contracts.mappingWriter.address, [sender, 128n]), // just past the associated range
        call(contracts.slotReader.address, [9n]),
        call(contracts.transientWriter.address, [3n]),
        { raw: returnValid },
      ),
    })
    const violations = found(await check(userOp({ sender })))
    const base = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [sender, 0n]))
    expect(violations).toEqual([
      v({
        rule: 'STO-033',
        entity: 'account',
        entityAddress: sender,
        contract: contracts.mappingWriter.address,
        opcode: 'SSTORE',
        slot: numberToHex(BigInt(base) + 128n, { size: 32 }),
      }),
      v({
        rule: 'STO-033',
        entity: 'account',
        entityAddress: sender,
        contract: contracts.slotReader.address,
        opcode: 'SLOAD',
        slot: numberToHex(9n, { size: 32 }),
      }),
      v({
        rule: 'STO-033',
        entity: 'account',
        entityAddress: sender,
        contract: contracts.transientWriter.address,
        opcode: 'TSTORE',
        slot: numberToHex(3n, { size: 32 }),
      }),
    ])
  })

  test('behavior: STO-031 / STO-032 / OP-080 / STO-033 an unstaked paymaster; none once it is staked', async () => {
    const snippet = (paymaster: Address) => [
      [0, 'SLOAD', 'POP'], // its own storage
      call(contracts.mappingWriter.address, [paymaster, 0n]), // associated with it
      ['SELFBALANCE', 'POP'],
      call(contracts.slotReader.address, [5n]), // read-only, any non-entity storage
    ]
    const unstaked = await deploy('0x')
    await client.setCode({
      address: unstaked,
      bytecode: asm(snippet(unstaked), { raw: returnPaymasterValid }),
    })
    const sender = await account([])
    const op = userOp({ sender, paymasterAndData: paymasterAndData(unstaked) })
    const report = await check(op)
    const base = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [unstaked, 0n]))
    const at0 = (address: Address) =>
      v({
        rule: 'STO-031',
        entity: 'paymaster',
        entityAddress: address,
        contract: address,
        opcode: 'SLOAD',
        slot: pad('0x0'),
      })
    expect(found(report)).toEqual([
      v({
        rule: 'OP-080',
        entity: 'paymaster',
        entityAddress: unstaked,
        contract: unstaked,
        opcode: 'SELFBALANCE',
      }),
      at0(unstaked),
      v({
        rule: 'STO-032',
        entity: 'paymaster',
        entityAddress: unstaked,
        contract: contracts.mappingWriter.address,
        opcode: 'SSTORE',
        slot: base,
      }),
      v({
        rule: 'STO-033',
        entity: 'paymaster',
        entityAddress: unstaked,
        contract: contracts.slotReader.address,
        opcode: 'SLOAD',
        slot: numberToHex(5n, { size: 32 }),
      }),
    ])
    expect(report.violations[1]!.description).toMatch(
      /unstaked \(stake 0 wei, unstake delay 0 s\) paymaster reads/,
    )
    expect(report.stakes.paymaster).toMatchObject({ address: unstaked, stake: 0n, staked: false })

    const staked = await deploy('0x', { stake: parseEther('1'), unstakeDelay: 86_400 })
    await client.setCode({ address: staked, bytecode: asm(snippet(staked), { raw: returnPaymasterValid }) })
    const ok = await check(userOp({ sender, paymasterAndData: paymasterAndData(staked) }))
    expect(found(ok)).toEqual([])
    expect(ok.stakes.paymaster).toMatchObject({
      stake: parseEther('1'),
      unstakeDelaySec: 86_400,
      locked: true,
      staked: true,
    })
    // Below the minimums it counts as unstaked again.
    const low = await check(userOp({ sender, paymasterAndData: paymasterAndData(staked) }), {
      minStake: parseEther('2'),
    })
    expect(found(low).map((violation) => violation.rule)).toEqual(['OP-080', 'STO-031', 'STO-032', 'STO-033'])
    const short = await check(userOp({ sender, paymasterAndData: paymasterAndData(staked) }), {
      minUnstakeDelay: 86_401,
    })
    expect(found(short).map((violation) => violation.rule)).toEqual([
      'OP-080',
      'STO-031',
      'STO-032',
      'STO-033',
    ])
    // A paymaster may not call the EntryPoint (only the sender and the factory may deposit).
    await client.setCode({
      address: staked,
      bytecode: asm(call(entryPoint, []), { raw: returnPaymasterValid }),
    })
    expect(found(await check(userOp({ sender, paymasterAndData: paymasterAndData(staked) })))).toEqual([
      v({
        rule: 'OP-054',
        entity: 'paymaster',
        entityAddress: staked,
        contract: staked,
        opcode: 'CALL',
        target: entryPoint,
      }),
    ])
  })

  describe('deployment through a factory', () => {
    /** Factory runtime: CREATE2(salt 0, init code = its calldata), then `snippet`, then returns the address. */
    const factoryCode = (snippet: Part[]) =>
      asm(['CALLDATASIZE', 0, 0, 'CALLDATACOPY'], [0, 'CALLDATASIZE', 0, 0, 'CREATE2'], ...snippet, [
        0,
        'MSTORE',
        32,
        0,
        'RETURN',
      ])
    const deployOp = (factory: Address, accountRuntime: Hex, extra: Partial<PackedUserOperation> = {}) => {
      const initCode = initCodeOf(accountRuntime)
      const sender = getContractAddress({
        opcode: 'CREATE2',
        from: factory,
        salt: pad('0x'),
        bytecode: initCode,
      })
      return { sender, op: userOp({ sender, initCode: concat([factory, initCode]), ...extra }) }
    }

    test('behavior: the factory creates the sender once (OP-031 allows it; a second CREATE2 is reported)', async () => {
      const factory = await deploy('0x', { deposit: false })
      await client.setCode({ address: factory, bytecode: factoryCode([]) })
      const { sender, op } = deployOp(factory, returnValid)
      await send(anvilKeysAddress, entryPoint, depositToData(sender), parseEther('1'))
      const report = await check(op)
      expect(found(report)).toEqual([])
      expect(report.phases.map((phase) => phase.entity)).toEqual(['factory', 'account'])

      const twice = await deploy('0x', { deposit: false })
      await client.setCode({ address: twice, bytecode: factoryCode([[1, 0, 0, 0, 'CREATE2', 'POP']]) })
      const second = deployOp(twice, returnValid)
      await send(anvilKeysAddress, entryPoint, depositToData(second.sender), parseEther('1'))
      expect(found(await check(second.op))).toEqual([
        v({
          rule: 'OP-031',
          entity: 'factory',
          entityAddress: twice,
          contract: twice,
          opcode: 'CREATE2',
          target: getContractAddress({ opcode: 'CREATE2', from: twice, salt: pad('0x01'), bytecode: '0x' }),
        }),
      ])
    })

    test('behavior: STO-022 storage associated with the sender during its deployment needs a staked factory', async () => {
      // The factory writes keccak(sender ‖ 0) in a non-entity contract; the account reads it in its validation.
      const accountRuntime = asm(
        // calldata of validateUserOp is not ours to use: write the sender (ADDRESS) as the first word.
        ['ADDRESS', 0, 'MSTORE', 0, 0x20, 'MSTORE'],
        [0, 0, 0x40, 0, { push: contracts.mappingReader.address }, 'GAS', 'STATICCALL', 'POP'],
        { raw: returnValid },
      )
      const factorySnippet = (sender: Address) => [
        // keep the created address on the stack
        { push: pad(sender) },
        0,
        'MSTORE',
        0,
        0x20,
        'MSTORE',
        [0, 0, 0x40, 0, 0, { push: contracts.mappingWriter.address }, 'GAS', 'CALL', 'POP'],
      ]
      const run = async (stake: bigint | undefined) => {
        const factory = await deploy('0x', { deposit: false, ...(stake !== undefined ? { stake } : {}) })
        const { sender } = deployOp(factory, accountRuntime)
        await client.setCode({ address: factory, bytecode: factoryCode(factorySnippet(sender)) })
        const { op } = deployOp(factory, accountRuntime)
        await send(anvilKeysAddress, entryPoint, depositToData(sender), parseEther('1'))
        return { factory, sender, report: await check(op) }
      }
      const unstaked = await run(undefined)
      const slot = keccak256(
        encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [unstaked.sender, 0n]),
      )
      expect(found(unstaked.report)).toEqual([
        v({
          rule: 'STO-022',
          entity: 'factory',
          entityAddress: unstaked.factory,
          contract: contracts.mappingWriter.address,
          opcode: 'SSTORE',
          slot,
        }),
        v({
          rule: 'STO-022',
          entity: 'account',
          entityAddress: unstaked.sender,
          contract: contracts.mappingReader.address,
          opcode: 'SLOAD',
          slot,
        }),
      ])
      const staked = await run(parseEther('1'))
      expect(found(staked.report)).toEqual([])
    })
  })
})

describe('ERC-7562 checker on crafted traces', () => {
  const entryPointAddress = entryPoint08.address
  const sender = getAddress('0x00000000000000000000000000000000000a11ce')
  const senderCreator: Address = '0x00000000000000000000000000000000000005c0'
  const op: PackedUserOperation = {
    sender,
    nonce: 0n,
    initCode: '0x',
    callData: '0x',
    accountGasLimits: pad('0x'),
    preVerificationGas: 0n,
    gasFees: pad('0x'),
    paymasterAndData: '0x',
    signature: '0x',
  }
  const context = {
    userOp: op,
    entryPoint: entryPointAddress,
    senderCreator,
    stakes: {},
    hasCode: () => true,
  }
  const step = (
    depth: number,
    op: string,
    stack: (bigint | Hex)[] = [],
    extra: Partial<StructLog> = {},
  ): StructLog => ({
    pc: 0,
    op,
    gas: 100_000,
    gasCost: 3,
    depth,
    stack: stack.map((item) => (typeof item === 'bigint' ? numberToHex(item) : item)),
    memory: [],
    ...extra,
  })
  const beforeExecution = keccak256(new TextEncoder().encode('BeforeExecution()'))
  // EntryPoint (depth 1) calls the sender: CALL's stack, top last: … argsSize argsOffset value address gas.
  const enterAccount = step(1, 'CALL', [0n, 0n, 0n, 0n, 0n, BigInt(sender), 50_000n])
  const end = [step(1, 'PUSH1'), step(1, 'LOG1', [beforeExecution, 0n, 0n])]

  test('behavior: a step whose error names gas is OP-020 (struct loggers mark the failing step)', () => {
    const report = analyzeValidationTrace(
      [enterAccount, step(2, 'KECCAK256', [0n, 0n], { error: 'OutOfGas' }), ...end],
      context,
    )
    expect(report.validated).toBe(true)
    expect(
      report.violations.map((violation) => [violation.rule, violation.opcode, violation.contract]),
    ).toEqual([['OP-020', 'KECCAK256', sender]])
  })

  test('behavior: without BeforeExecution the validation did not succeed (validated: false)', () => {
    const report = analyzeValidationTrace(
      [enterAccount, step(2, 'REVERT', [0n, 0n]), step(1, 'REVERT', [0n, 0n])],
      context,
    )
    expect(report).toEqual({
      violations: [],
      phases: [{ entity: 'account', address: sender, steps: 1 }],
      validated: false,
    })
  })

  test('behavior: steps after BeforeExecution (the execution) are not checked', () => {
    const report = analyzeValidationTrace(
      [
        enterAccount,
        step(2, 'STOP'),
        ...end,
        step(1, 'CALL', [0n, 0n, 0n, 0n, 0n, BigInt(sender), 50_000n]),
        step(2, 'TIMESTAMP'),
      ],
      context,
    )
    expect(report.violations).toEqual([])
    expect(report.phases).toEqual([{ entity: 'account', address: sender, steps: 1 }])
  })
})
