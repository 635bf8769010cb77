/** Number -> JSON-RPC quantity (`0x7a69`). Kept here so the provider entry does not pull in viem. */
export function toQuantity(value: number | bigint): `0x${string}` {
  return `0x${value.toString(16)}`
}

/** JSON-RPC quantity -> number (throws on a non-safe integer). */
export function fromQuantity(value: `0x${string}`): number {
  const n = Number.parseInt(value.slice(2), 16)
  if (!Number.isSafeInteger(n)) throw new RangeError(`${value} is not a safe integer`)
  return n
}

export function sameAddress(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase()
}
