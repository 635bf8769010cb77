import type { SsoChainConfig } from '~/lib/config'
import { type Call, gasPayer, sendCalls, waitForUserOperation } from '~/lib/userOperations'
import { useAccountStore } from '~/stores/account'

/**
 * Sends calls from the logged-in account in one user operation signed with its passkey (one approval), and waits
 * for it on chain. `step` tells what is happening, for the screen.
 */
export function useAccountCalls() {
  const account = useAccountStore()
  const step = ref('')
  async function send(chain: SsoChainConfig, calls: readonly Call[]) {
    step.value = 'Checking the transaction…'
    try {
      const smartAccount = await account.smartAccount(chain)
      const hash = await sendCalls({
        chain,
        account: smartAccount,
        calls,
        payer: gasPayer(chain),
        onSign: () => {
          step.value = 'Approve with your passkey…'
        },
      })
      step.value = 'Waiting for the chain…'
      return await waitForUserOperation(chain, hash)
    } finally {
      step.value = ''
    }
  }
  return { step, send }
}
