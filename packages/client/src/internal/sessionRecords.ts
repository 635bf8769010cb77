/**
 * The sessions a dapp holds, kept in its storage (`<storageKey>.sessions`): the record of each session without any
 * key material (the key stays in its key store). A record that does not parse is dropped, never trusted.
 */
import * as v from 'valibot'
import type { Address, Hex } from 'viem'
import { defaultStorage } from '../provider/storage.js'
import { SessionSpec as SessionSpecSchema } from '../RpcSchema.js'
import { type SessionSpec, sessionSpecFromWire, sessionSpecToWire } from '../SessionSpec.js'

/** One session this dapp holds (persisted without any key material: the key stays in its store). */
export type SessionRecord = {
  sessionId: Hex
  account: Address
  chainId: number
  spec: SessionSpec
  keyId: string
}

const StoredRecord = v.object({
  sessionId: v.string(),
  account: v.string(),
  chainId: v.number(),
  spec: SessionSpecSchema,
  keyId: v.string(),
})

type Storage_ = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>

/** Reads and writes the records under `storageKey` of `storage` (localStorage, else memory). */
export function createSessionRecords(storage: Storage_ = defaultStorage(), storageKey = 'sso.sessions') {
  function restore(): SessionRecord[] {
    try {
      const raw = JSON.parse(storage.getItem(storageKey) ?? '[]') as unknown[]
      return raw.flatMap((entry) => {
        const parsed = v.safeParse(StoredRecord, entry)
        if (!parsed.success) return []
        const { spec, ...rest } = parsed.output
        return [
          {
            ...rest,
            sessionId: rest.sessionId as Hex,
            account: rest.account as Address,
            spec: sessionSpecFromWire(spec),
          },
        ]
      })
    } catch {
      return []
    }
  }

  function persist(records: readonly SessionRecord[]) {
    try {
      storage.setItem(
        storageKey,
        JSON.stringify(records.map((r) => ({ ...r, spec: sessionSpecToWire(r.spec) }))),
      )
    } catch {
      // Storage denied: sessions just won't survive a reload.
    }
  }

  return { restore, persist }
}
