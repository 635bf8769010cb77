/**
 * The session keys a session manager holds (docs/architecture.md, section 5): the next key, made ahead because the
 * provider needs it synchronously inside the user's click, and the keys of the sessions it holds, loaded from the
 * key store once and kept.
 */
import { UnauthorizedError } from '../Errors.js'
import {
  canUseWebCryptoKeys,
  createIdbKeyStore,
  createMemoryKeyStore,
  createSessionSigner,
  loadSessionSigner,
  type SessionKeyStore,
  type SessionSigner,
} from '../SessionSigner.js'

export type SessionKeys = ReturnType<typeof createSessionKeys>

export function createSessionKeys(options: {
  keyType?: 'p256' | 'secp256k1' | undefined
  keyStore?: SessionKeyStore | undefined
}) {
  const keyType = options.keyType ?? (canUseWebCryptoKeys() ? 'p256' : 'secp256k1')
  const store =
    options.keyStore ??
    (keyType === 'p256' && canUseWebCryptoKeys() ? createIdbKeyStore() : createMemoryKeyStore())
  let next: SessionSigner | undefined
  let preparing: Promise<void> | undefined
  const signers = new Map<string, SessionSigner>()

  function prepare(): Promise<void> {
    preparing ??= (async () => {
      next = await createSessionSigner(keyType, store)
    })().finally(() => {
      preparing = undefined
    })
    return preparing
  }
  void prepare().catch(() => {})

  return {
    /** The key the next session gets, once it is made. */
    next: (): SessionSigner | undefined => next,

    /** Takes the next key for a session being granted: the next request gets a fresh one. */
    take(signer: SessionSigner) {
      if (next === signer) next = undefined
      void prepare().catch(() => {})
    },

    /** Keeps the key of a granted session at hand. */
    keep(signer: SessionSigner) {
      signers.set(signer.id, signer)
    },

    /** Resolves once the next key is made. */
    async ready() {
      if (next) return
      await prepare()
    },

    /** The key of a session, from the store the first time. */
    async signerOf(keyId: string): Promise<SessionSigner> {
      const cached = signers.get(keyId)
      if (cached) return cached
      const loaded = await loadSessionSigner({ store, id: keyId })
      if (!loaded)
        throw new UnauthorizedError('The session key is gone from this browser: request a new session.')
      signers.set(keyId, loaded)
      return loaded
    },

    /** Deletes a session's key (the session ended or is forgotten). */
    drop(keyId: string) {
      void store.delete(keyId).catch(() => {})
      signers.delete(keyId)
    },
  }
}
