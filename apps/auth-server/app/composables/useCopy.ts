/**
 * Copy to the clipboard with a short-lived "Copied" state for the button. `copy` resolves false when the browser
 * refuses (no permission, not a secure context): the caller then asks the user to select and copy by hand.
 */
export function useCopy() {
  const copied = ref(false)
  let timer: ReturnType<typeof setTimeout> | undefined
  async function copy(text: string): Promise<boolean> {
    clearTimeout(timer)
    try {
      await navigator.clipboard.writeText(text)
      copied.value = true
      timer = setTimeout(() => (copied.value = false), 2_000)
      return true
    } catch {
      copied.value = false
      return false
    }
  }
  onBeforeUnmount(() => clearTimeout(timer))
  return { copied, copy }
}
