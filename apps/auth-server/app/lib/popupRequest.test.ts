import { Errors } from '@sso/client/popup'
import { expect, test } from 'vitest'
import type { StoredAccount } from './account'
import type { SsoChainConfig } from './config'
import { type PopupRequest, refusalOf } from './popupRequest'

const account = '0x1111111111111111111111111111111111111111'
const other = '0x2222222222222222222222222222222222222222'
const chain = { id: 31337 } as SsoChainConfig
const loggedIn = { address: account } as unknown as StoredAccount

const sign = (signer: string) =>
  ({ id: '1', chainId: 31337, method: 'personal_sign', params: ['0x68690a', signer] }) as PopupRequest
const sendCalls = {
  id: '2',
  chainId: 1,
  method: 'wallet_sendCalls',
  params: [{ version: '2.0.0', chainId: '0x1', from: account, atomicRequired: true, calls: [{ to: other }] }],
} as unknown as PopupRequest

test('behavior: a request of the logged-in account on a configured chain is not refused', () => {
  expect(refusalOf(sign(account), { configError: undefined, chain, account: loggedIn })).toBeUndefined()
})

test('error: a broken /sso-config.json refuses everything with -32603 before any other check', () => {
  const error = refusalOf(sign(other), { configError: 'bad JSON', chain: undefined, account: undefined })
  expect(error).toBeInstanceOf(Errors.InternalError)
  expect(error?.shortMessage).toBe('The SSO server is misconfigured: bad JSON')
})

test('error: an unconfigured chain is 5710 for wallet_sendCalls (EIP-5792), 4902 otherwise', () => {
  const context = { configError: undefined, chain: undefined, account: loggedIn }
  expect(refusalOf(sendCalls, context)?.code).toBe(Errors.UnsupportedChainIdError.code)
  expect(refusalOf({ ...sign(account), chainId: 1 } as PopupRequest, context)?.code).toBe(
    Errors.UnknownChainError.code,
  )
})

test('error: a signature for another account, or with nobody logged in, is 4100 with its reason', () => {
  const another = refusalOf(sign(other), { configError: undefined, chain, account: loggedIn })
  expect([another?.code, another?.data]).toEqual([4100, { reason: 'another-account' }])
  const loggedOut = refusalOf(sign(account), { configError: undefined, chain, account: undefined })
  expect([loggedOut?.code, loggedOut?.data]).toEqual([4100, { reason: 'logged-out' }])
})

test("error: an app's transaction to the account itself or to its passkeys, sessions or guardians contracts is 4100, naming the call", () => {
  const passkeys = '0x3333333333333333333333333333333333333333'
  const guardians = '0x4444444444444444444444444444444444444444'
  const configured = {
    id: 31337,
    contracts: { entryPoint: other, webAuthnValidator: passkeys, guardianExecutor: guardians },
  } as unknown as SsoChainConfig
  const context = { configError: undefined, chain: configured, account: loggedIn }
  const transaction = (to: string) =>
    ({
      id: '3',
      chainId: 31337,
      method: 'eth_sendTransaction',
      params: [{ from: account, to }],
    }) as PopupRequest
  const batch = (...tos: string[]) =>
    ({
      id: '4',
      chainId: 31337,
      method: 'wallet_sendCalls',
      params: [
        {
          version: '2.0.0',
          chainId: '0x7a69',
          from: account,
          atomicRequired: true,
          calls: tos.map((to) => ({ to })),
        },
      ],
    }) as unknown as PopupRequest
  expect(refusalOf(transaction(other), context)).toBeUndefined()
  expect(refusalOf(batch(other, other), context)).toBeUndefined()
  const self = refusalOf(transaction(account.toUpperCase().replace('0X', '0x')), context)
  expect([self?.code, self?.data]).toEqual([4100, { reason: 'account-configuration', call: 0 }])
  expect(self?.shortMessage).toMatch(
    /^Apps can't change the account's own configuration: call 0 goes to the account itself/,
  )
  const passkeyCall = refusalOf(batch(other, passkeys), context)
  expect([passkeyCall?.code, passkeyCall?.data]).toEqual([4100, { reason: 'account-configuration', call: 1 }])
  expect(passkeyCall?.shortMessage).toContain('passkeys (WebAuthnValidator)')
  expect(refusalOf(transaction(guardians), context)?.shortMessage).toContain(
    'guardians and recovery (GuardianExecutor)',
  )
})
