import { errorLine } from '~/lib/errors'
import { useAccountStore } from '~/stores/account'

/**
 * Reads what a dashboard panel shows about the account: `loaded` once read, `error` (one line) when reading failed.
 * Reads again once the account finishes what it was busy with: right after sign-up the account deploys while the
 * panel is already shown.
 */
export function useAccountPanel(read: () => Promise<void>) {
  const accountStore = useAccountStore()
  const loaded = ref(false)
  const error = ref('')
  async function load() {
    try {
      await read()
      loaded.value = true
    } catch (e) {
      error.value = errorLine(e)
    }
  }
  watch(
    () => accountStore.busy,
    (busy, before) => {
      if (busy === '' && before !== '') void load()
    },
  )
  return { loaded, error, load }
}
