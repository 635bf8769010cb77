import { recoveryErrorText } from '~/lib/recovery'

/**
 * One recovery step at a time: `busy` names the running step (for its spinner and to disable the other buttons),
 * `error` says in plain words why the last one failed.
 */
export function useRecoveryStep() {
  const busy = ref('')
  const error = ref('')
  async function run(what: string, step: () => Promise<void>) {
    error.value = ''
    busy.value = what
    try {
      await step()
    } catch (e) {
      error.value = recoveryErrorText(e)
    } finally {
      busy.value = ''
    }
  }
  return { busy, error, run }
}
