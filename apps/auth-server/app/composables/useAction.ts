import { errorLine } from '~/lib/errors'

/**
 * One action at a time (a recovery step, a revoke, a disconnect): `busy` names the running one (for its button, and
 * to disable the others), `error` says why the last one failed, in `describe`'s words (default: the first line of
 * its message).
 */
export function useAction(describe: (error: unknown) => string = errorLine) {
  const busy = ref('')
  const error = ref('')
  async function run(what: string, action: () => Promise<void>) {
    error.value = ''
    busy.value = what
    try {
      await action()
    } catch (e) {
      error.value = describe(e)
    } finally {
      busy.value = ''
    }
  }
  return { busy, error, run }
}
