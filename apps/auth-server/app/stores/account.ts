import type { SsoAccount } from '@sso/client/account'
import { defineStore } from 'pinia'
import type { Address } from 'viem'
import {
  type AccountCandidate,
  deployAccount,
  getSsoAccount,
  logInWithPasskey,
  type StoredAccount,
} from '~/lib/account'
import type { SsoChainConfig } from '~/lib/config'
import { AccountError } from '~/lib/errors'
import { createPasskey } from '~/lib/passkey'

const storageKey = 'sso.auth.account'
/** Accounts signed up on this device, by passkey user handle (log-in finds undeployed ones through it). */
const knownKey = 'sso.auth.known'

function isStoredAccount(value: unknown): value is StoredAccount {
  const v = value as StoredAccount | undefined
  return (
    typeof v?.address === 'string' &&
    /^0x[0-9a-fA-F]{40}$/.test(v.address) &&
    typeof v.passkey?.id === 'string' &&
    typeof v.passkey.origin === 'string' &&
    typeof v.passkey.rpId === 'string' &&
    typeof v.passkey.publicKey?.x === 'string' &&
    typeof v.passkey.publicKey.y === 'string'
  )
}

function readKnown(): Record<string, StoredAccount> {
  try {
    const parsed = JSON.parse(localStorage.getItem(knownKey) ?? '{}') as Record<string, unknown>
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, StoredAccount] => isStoredAccount(entry[1])),
    )
  } catch {
    return {}
  }
}

function read(): StoredAccount | undefined {
  try {
    const parsed = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as unknown
    return isStoredAccount(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** The log-in waiting for the user to pick an account. */
let pending: { resolve: (choice: AccountCandidate) => void; reject: (error: Error) => void } | undefined

/**
 * The logged-in account (address + passkey), kept in localStorage (the popup and the dashboard share this
 * origin). Sign-up creates a passkey and deploys the account; log-in finds it on chain from the passkey.
 */
export const useAccountStore = defineStore('account', {
  state: () => ({
    account: read() as StoredAccount | undefined,
    /** What is running: 'signup' | 'deploy' | 'login' | '' (for the buttons). */
    busy: '' as '' | 'signup' | 'deploy' | 'login',
    /** Accounts a log-in passkey belongs to, while the user picks one (see AccountChooser). */
    choices: [] as AccountCandidate[],
  }),
  getters: {
    address: (state): Address | undefined => state.account?.address,
  },
  actions: {
    save(account: StoredAccount | undefined) {
      this.account = account
      if (account) localStorage.setItem(storageKey, JSON.stringify(account))
      else localStorage.removeItem(storageKey)
    },

    /** Creates a passkey, derives the account address and deploys it on `chain` with a first user operation. */
    async signUp(chain: SsoChainConfig): Promise<StoredAccount> {
      this.busy = 'signup'
      try {
        const passkey = await createPasskey({
          userName: `SSO account ${new Date().toISOString().slice(0, 16)}`,
        })
        const account = await getSsoAccount(chain, passkey)
        // Saved before deploying: the passkey exists now, a failed deployment can be retried.
        const stored = { address: account.address, passkey }
        this.save(stored)
        if (passkey.userHandle)
          localStorage.setItem(knownKey, JSON.stringify({ ...readKnown(), [passkey.userHandle]: stored }))
        this.busy = 'deploy'
        try {
          await deployAccount(chain, account)
        } catch (error) {
          const { message, code } = error as { message?: string; code?: number }
          throw new AccountError(
            `Your passkey and account are created, but deploying the account failed (it will be deployed with its first transaction; you can connect now or try again): ${message ?? String(error)}`,
            typeof code === 'number' ? code : -32603,
            { cause: error },
          )
        }
        return stored
      } finally {
        this.busy = ''
      }
    },

    /** Deploys the stored account on `chain` if it has no code yet (retry after a failed sign-up). */
    async ensureDeployed(chain: SsoChainConfig): Promise<void> {
      if (!this.account) return
      this.busy = 'deploy'
      try {
        await deployAccount(chain, await this.smartAccount(chain))
      } finally {
        this.busy = ''
      }
    },

    /**
     * Logs in with a discoverable passkey; the account comes from chain state. When the passkey belongs to several
     * accounts, `choices` lists them (with their addresses) until {@link choose} or {@link cancelChoice}.
     */
    async logIn(chain: SsoChainConfig): Promise<StoredAccount> {
      this.busy = 'login'
      // One choice at a time: an earlier log-in still waiting for a pick ends (4001) before this one asks.
      pending?.reject(new AccountError('Log-in cancelled: another log-in started.', 4001))
      let mine: typeof pending
      try {
        const candidates = await logInWithPasskey(chain, readKnown())
        const picked =
          candidates.length === 1
            ? candidates[0]
            : await new Promise<AccountCandidate>((resolve, reject) => {
                pending?.reject(new AccountError('Log-in cancelled: another log-in started.', 4001))
                mine = { resolve, reject }
                pending = mine
                this.choices = candidates
              })
        if (!picked) throw new AccountError('No account was picked.', 4001)
        const stored = { address: picked.address, passkey: picked.passkey }
        this.save(stored)
        return stored
      } finally {
        if (pending === mine) {
          pending = undefined
          this.choices = []
        }
        this.busy = ''
      }
    },

    /** Picks one of `choices` (log-in with a passkey of several accounts). */
    choose(address: Address) {
      const choice = this.choices.find((c) => c.address === address)
      if (choice) pending?.resolve(choice)
    },

    /** Gives up picking: the log-in ends with 4001. */
    cancelChoice() {
      pending?.reject(new AccountError('Log-in cancelled: no account was picked.', 4001))
    },

    logOut() {
      this.save(undefined)
    },

    /** The viem SmartAccount of the stored account on `chain`. */
    async smartAccount(chain: SsoChainConfig): Promise<SsoAccount> {
      if (!this.account) throw new Error('No account: sign up or log in first.')
      return getSsoAccount(chain, this.account.passkey, this.account.address)
    },
  },
})
