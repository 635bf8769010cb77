// Preloaded into Alto (`node --import`): Alto 0.0.20 judges a userOp's validity window (validAfter/validUntil,
// chain time) by its own clock (`Date.now()`), when it accepts the op and again when it bundles it (a state
// override of block.timestamp). After anvil time travel the chain runs ahead of the wall clock and Alto would
// refuse or drop every op whose window starts after the wall clock. This shifts `Date.now()` and `new Date()` by
// the offset that `increaseTime` / `resetTime` (../Clock.ts) write to the file named by SSO_DEVNET_CLOCK_FILE.
// Monotonic clocks (performance.now, timers) are untouched: Alto does not judge validity with them.
import fs from 'node:fs'

const file = process.env.SSO_DEVNET_CLOCK_FILE

if (file) {
  const RealDate = Date
  const realNow = Date.now
  // The writer waits longer than this after each change, so an op sent after a travel sees the new offset.
  const recheckMs = 10
  let offsetMs = 0
  let checkedAt = Number.NEGATIVE_INFINITY

  const currentOffset = (wall) => {
    if (wall - checkedAt < recheckMs) return offsetMs
    checkedAt = wall
    let text
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      // No file yet (or removed with the stack): no travel.
      offsetMs = 0
      return offsetMs
    }
    try {
      const value = JSON.parse(text).offsetMs
      if (Number.isSafeInteger(value)) offsetMs = value
    } catch {
      // Writes are atomic (rename); keep the last good value anyway.
    }
    return offsetMs
  }

  const now = () => {
    const wall = realNow.call(RealDate)
    return wall + currentOffset(wall)
  }

  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(
        target,
        args.length === 0 ? [now()] : args,
        newTarget === globalThis.Date ? target : newTarget,
      )
    },
    apply() {
      return new RealDate(now()).toString()
    },
    get(target, key) {
      return key === 'now' ? now : Reflect.get(target, key)
    },
  })
}
