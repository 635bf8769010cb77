/**
 * Parallel ERC-4337 nonce keys ("lanes") for one account: each send in flight holds its own 32-bit sequence key
 * (`nonceKey(validator, lane)`, docs/architecture.md section 5), so sends fired at once get independent nonces
 * and none replaces another; past `max` lanes a send waits in line for the first lane to come free. The lowest
 * free lane is taken, so one send at a time always uses lane 0.
 */
export type NonceLane = { lane: number; release: () => void }

export type NonceLanes = {
  /** Resolves with a lane of `owner` (an account on a chain) once one is free. */
  acquire(owner: string): Promise<NonceLane>
}

export function createNonceLanes(max: number): NonceLanes {
  type Owner = { busy: Set<number>; waiting: ((lane: number) => void)[] }
  const owners = new Map<string, Owner>()
  const laneOf = (owner: string, entry: Owner, lane: number): NonceLane => {
    let released = false
    return {
      lane,
      release() {
        if (released) return
        released = true
        // Handed straight to the next in line, so a newcomer can't slip past the limit in between.
        const next = entry.waiting.shift()
        if (next) return next(lane)
        entry.busy.delete(lane)
        if (entry.busy.size === 0) owners.delete(owner)
      },
    }
  }
  return {
    async acquire(owner) {
      let entry = owners.get(owner)
      if (!entry) {
        entry = { busy: new Set(), waiting: [] }
        owners.set(owner, entry)
      }
      const current = entry
      if (current.busy.size >= max)
        return laneOf(owner, current, await new Promise<number>((resolve) => current.waiting.push(resolve)))
      let lane = 0
      while (current.busy.has(lane)) lane++
      current.busy.add(lane)
      return laneOf(owner, current, lane)
    },
  }
}
