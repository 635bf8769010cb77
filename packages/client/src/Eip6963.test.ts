import { describe, expect, test } from 'vitest'
import { announceProvider, icon } from './Eip6963.js'

describe('Eip6963', () => {
  test('behavior: announces now and on every requestProvider, until stopped', () => {
    const provider = { request: async () => null }
    const seen: { info: { name: string; rdns: string; uuid: string; icon: string }; provider: unknown }[] = []
    const listener = (event: Event) => seen.push((event as CustomEvent).detail)
    window.addEventListener('eip6963:announceProvider', listener)
    const stop = announceProvider({ provider })
    expect(seen).toHaveLength(1)
    expect(seen[0]?.info).toMatchObject({ name: 'SSO', rdns: 'dev.sso', icon })
    expect(seen[0]?.info.uuid).toMatch(/^[0-9a-f-]{36}$/)
    expect(seen[0]?.provider).toBe(provider)
    expect(Object.isFrozen(seen[0])).toBe(true)
    window.dispatchEvent(new Event('eip6963:requestProvider'))
    expect(seen).toHaveLength(2)
    expect(seen[1]?.info.uuid).toBe(seen[0]?.info.uuid)
    stop()
    window.dispatchEvent(new Event('eip6963:requestProvider'))
    expect(seen).toHaveLength(2)
    window.removeEventListener('eip6963:announceProvider', listener)
    expect(icon.startsWith('data:image/svg+xml,')).toBe(true)
  })
})
