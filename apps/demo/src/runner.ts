import { reactive } from 'vue'

/**
 * The demo's runner for provider calls a click starts: marks the action busy (its buttons wait), shows a failure as
 * one line `code [rule]: message`, and lets the page refresh afterwards.
 */
export type Runner = {
  /** The running action ('' when none). */
  busy: string
  /** The last failure, or ''. */
  error: string
  /**
   * Runs `start` (a call started synchronously by the click: the popup must open inside the user gesture), then
   * `then` with its result.
   */
  run<T>(name: string, start: Promise<T> | (() => Promise<T>), then: (value: T) => void | Promise<void>): void
  /** Shows a thrown value in the error line. */
  showError(error: unknown): void
}

export function createRunner(after?: () => void): Runner {
  const runner: Runner = reactive({
    busy: '',
    error: '',
    showError(e: unknown) {
      const { code, shortMessage, message, rule } = e as {
        code?: number
        shortMessage?: string
        message?: string
        rule?: string
      }
      runner.error = `${code ?? 'error'}${rule ? ` [${rule}]` : ''}: ${shortMessage ?? message ?? String(e)}`
    },
    run<T>(name: string, start: Promise<T> | (() => Promise<T>), then: (value: T) => void | Promise<void>) {
      runner.error = ''
      runner.busy = name
      let started: Promise<T>
      try {
        started = typeof start === 'function' ? start() : start
      } catch (e) {
        runner.showError(e)
        runner.busy = ''
        return
      }
      started
        .then(then)
        .catch(runner.showError)
        .finally(() => {
          if (runner.busy === name) runner.busy = ''
          after?.()
        })
    },
  })
  return runner
}
