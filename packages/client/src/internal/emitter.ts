/** A tiny EIP-1193 event emitter (`on` / `removeListener` / `emit`); listener errors never reach the emitter. */
export type Listener = (...args: never[]) => void

export function createEmitter<events extends Record<string, (...args: never[]) => void>>() {
  const listeners = new Map<keyof events, Set<Listener>>()
  return {
    on<event extends keyof events>(event: event, listener: events[event]) {
      const set = listeners.get(event) ?? new Set<Listener>()
      listeners.set(event, set)
      set.add(listener)
    },
    removeListener<event extends keyof events>(event: event, listener: events[event]) {
      listeners.get(event)?.delete(listener)
    },
    emit<event extends keyof events>(event: event, ...args: Parameters<events[event]>) {
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          ;(listener as (...args: unknown[]) => void)(...args)
        } catch {
          // A dapp listener that throws must not break the provider.
        }
      }
    },
  }
}
