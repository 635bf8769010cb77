/** Reading the default struct logger's steps (geth / anvil `debug_traceCall`): stack items, memory, addresses. */
import { type Address, getAddress, type Hex } from 'viem'

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

const strip = (hex: string) => (hex.startsWith('0x') ? hex.slice(2) : hex)
export const word = (value: string | undefined): bigint =>
  value === undefined ? 0n : BigInt(`0x${strip(value) || '0'}`)
export const toAddress = (value: bigint): Address =>
  getAddress(`0x${(value & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`)
export const toSlot = (value: bigint): Hex => `0x${value.toString(16).padStart(64, '0')}`
export const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase()
/** The `n`-th stack item from the top (0 = top). */
export const peek = (step: StructLog, n: number): bigint =>
  word(step.stack?.[(step.stack?.length ?? 0) - 1 - n])

/** `size` bytes of the step's memory (before the step ran) from `offset`, zero-filled past its end. */
export function readMemory(step: StructLog, offset: bigint, size: bigint): Hex {
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
