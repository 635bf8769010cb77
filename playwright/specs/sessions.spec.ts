import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { toSsoAccount } from '@sso/client/account'
import {
  checkSessionCalls,
  sessionKeyValidatorAbi as clientSessionAbi,
  createMemoryKeyStore,
  createSecp256k1SessionSigner,
  encodeSessionSpec,
  getSessionState,
  lifetime,
  type SessionSpec,
  toSessionAccount,
  transferPolicy,
  validateSessionSpec,
} from '@sso/client/session'
import { createTestPasskey } from '@sso/client/testing'
import { sessionKeyValidatorAbi as generatedSessionAbi } from '@sso/contracts-abi'
import {
  type Address,
  createWalletClient,
  decodeErrorResult,
  encodeFunctionData,
  erc20Abi,
  type Hex,
  http,
  parseEther,
  parseUnits,
  toFunctionSelector,
} from 'viem'
import {
  createBundlerClient,
  createPaymasterClient,
  UserOperationExecutionError,
} from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import {
  expectClosed,
  expectRequest,
  grantInRawPopup,
  hashPattern,
  openDemo,
  readHex,
  signUp,
} from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { resetClock, stackChain, travel } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

// This file's own synced passkeys: each spec file is a user of its own.
const syncedPasskeys = new PasskeyStore()

/**
 * Issue "Sessions: policy-limited session keys": the demo asks for a session (ERC-20 transfers to one shop,
 * Allowance per hour, and ETH transfers to one friend), then pays without any popup; limits, time travel, revoke,
 * expiry and bad specs, all against the real chain, bundler, popup and passkeys. Steps run in order.
 */
test.describe.configure({ mode: 'serial' })

const shop: Address = '0x000000000000000000000000000000000000c0DE'
const friend: Address = '0x000000000000000000000000000000000000F00D'
// anvil's account #5 (accounts 0-2 are the deployer, Alto's executor and utility keys)
const deployerKey: Hex = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'
const sessionKeyValidatorAbi = [
  {
    type: 'function',
    name: 'sessionStatus',
    stateMutability: 'view',
    inputs: [
      { name: 'account', type: 'address' },
      { name: 'sessionId', type: 'bytes32' },
    ],
    outputs: [{ type: 'uint8' }],
  },
] as const

/**
 * How the bundler refused a session userOp: a viem `UserOperationExecutionError` whose message carries the
 * EntryPoint's "AA23 reverted" and the SessionKeyValidator custom error that names the broken rule (decoded).
 */
async function refusal(sending: Promise<unknown>): Promise<{ errorName: string; args: readonly unknown[] }> {
  const error = await sending.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UserOperationExecutionError)
  const message = (error as UserOperationExecutionError).message
  expect(message).toMatch(/AA23 reverted/)
  const errors = generatedSessionAbi.filter((item) => item.type === 'error')
  const data = errors
    .map((item) => toFunctionSelector(`${item.name}(${item.inputs.map((input) => input.type).join(',')})`))
    .map((selector) => message.match(new RegExp(`${selector}[0-9a-fA-F]*`))?.[0])
    .find((found) => found !== undefined)
  expect(data, message).toMatch(/^0x[0-9a-fA-F]{8}/)
  const decoded = decodeErrorResult({ abi: generatedSessionAbi, data: data as Hex })
  return { errorName: decoded.errorName, args: decoded.args ?? [] }
}

let device: Device
let page: Page
let account: Address
let token: Address
let sessionId: Hex
let popups = 0

test.beforeAll(async ({ browser, stack, chain }) => {
  device = await newDevice(browser, syncedPasskeys)
  device.context.on('page', () => {
    popups++
  })
  page = await device.context.newPage()
  // A session userOp that consumes an allowance is valid only inside the allowance period (chain time): start
  // with the chain (and Alto, which judges that window by its clock) on the wall clock, as the demo's session
  // steps below count on (an earlier spec may have travelled in time).
  await resetClock(stack)
  // A test token: MockERC20 (OpenZeppelin ERC20, "MCK", 18 decimals) from the contracts' forge artifacts.
  const artifact = JSON.parse(
    readFileSync(
      fileURLToPath(new URL('../../packages/contracts/out/Mocks.sol/MockERC20.json', import.meta.url)),
      'utf8',
    ),
  ) as { bytecode: { object: Hex }; abi: unknown[] }
  const wallet = createWalletClient({
    account: privateKeyToAccount(deployerKey),
    chain: stackChain(stack),
    transport: http(stack.rpcUrl),
  })
  const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode.object })
  const receipt = await chain.waitForTransactionReceipt({ hash })
  token = receipt.contractAddress!
  expect(token).toMatch(/^0x[0-9a-fA-F]{40}$/)
})

test.afterAll(async ({ stack }) => {
  await device?.context.close()
  await resetClock(stack)
})

async function tokenBalance(chain: import('viem').PublicClient, owner: Address) {
  return chain.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] })
}

/** Clicks a demo button that must NOT open a popup, and waits for the demo to finish it. */
async function clickNoPopup(target: Page, testId: string) {
  const before = popups
  await target.getByTestId(testId).click()
  await expect(target.getByTestId('session-busy')).toHaveText('', { timeout: 30_000 })
  expect(popups, `${testId} opened a window`).toBe(before)
}

test('behavior: sign up, fund the account with ETH and tokens', async ({ stack, anvil, chain }) => {
  await openDemo(page, stack)
  ;({ address: account } = await signUp(device, page, stack))
  await anvil.setBalance({ address: account, value: parseEther('1') })
  const wallet = createWalletClient({
    account: privateKeyToAccount(deployerKey),
    chain: stackChain(stack),
    transport: http(stack.rpcUrl),
  })
  const mint = await wallet.writeContract({
    address: token,
    abi: [
      {
        type: 'function',
        name: 'mint',
        stateMutability: 'nonpayable',
        inputs: [
          { name: 'to', type: 'address' },
          { name: 'amount', type: 'uint256' },
        ],
        outputs: [],
      },
    ] as const,
    functionName: 'mint',
    args: [account, parseUnits('100', 18)],
  })
  await chain.waitForTransactionReceipt({ hash: mint })
  expect(await tokenBalance(chain, account)).toBe(parseUnits('100', 18))
})

test('behavior: the popup summarises the session and creates it with the passkey; only the public key crosses', async ({
  stack,
  chain,
}) => {
  await page.getByTestId('session-token').fill(token)
  const popup = await clickForPopup(device, page, 'session-request')
  await expectRequest(popup, stack, 'wallet_grantPermissions')
  const summary = popup.getByTestId('session-summary')
  await expect(summary).toContainText('transfer(address,uint256)')
  await expect(summary).toContainText(new RegExp(shop.slice(2), 'i'))
  await expect(summary).toContainText(/10 MCK per hour/)
  await expect(summary).toContainText('Transfer MCK')
  await expect(popup.getByTestId('session-policy').nth(1)).toContainText('Send ETH')
  await expect(popup.getByTestId('session-policy').nth(1)).toContainText(new RegExp(friend.slice(2), 'i'))
  // 10 MCK per hour over a 2-hour session touches 3 hourly periods; ETH: 0.02 lifetime.
  await expect(popup.getByTestId('session-spend')).toHaveText([/0\.02 ETH/, /30 MCK/])
  await expect(popup.getByTestId('session-expiry')).toContainText(/UTC \(in 2\.0 hours\)/)
  await expect(popup.getByTestId('session-fee')).toContainText('0.05 ETH')
  await expect(popup.getByTestId('session-warning')).toHaveCount(0)
  await expect(popup.getByTestId('approve')).toBeEnabled()
  await popup.getByTestId('approve').click()
  await expectClosed(popup, 60_000)

  sessionId = await readHex(page.getByTestId('session-id'), hashPattern)
  const status = await chain.readContract({
    address: stack.contracts.sessionKeyValidator!,
    abi: sessionKeyValidatorAbi,
    functionName: 'sessionStatus',
    args: [account, sessionId],
  })
  expect(status).toBe(1) // Active

  // The popup received the spec with a 64-byte P-256 public key, and nothing else about the key.
  const auth = new URL(stack.authServerUrl).origin
  const request = device.messages
    .requestsAt(auth)
    .filter((m) => m.data.method === 'wallet_grantPermissions')
    .at(-1)
  // It came from the demo (browser-given origin), through the popup's opener.
  expect(request).toMatchObject({ origin: new URL(stack.demoUrl).origin, source: 'opener' })
  const params = (request!.data as unknown as { params: [{ spec: { signer: Hex } }] }).params
  expect(params[0].spec.signer).toMatch(/^0x[0-9a-f]{128}$/)
  const everything = JSON.stringify(device.messages.all.map((m) => m.data))
  expect(everything).not.toMatch(/privateKey|"d":|pkcs8|jwk/i)
  // In the dapp the private key is a non-extractable CryptoKey in IndexedDB.
  const extractable = await page.evaluate(
    () =>
      new Promise<boolean[]>((resolve, reject) => {
        const open = indexedDB.open('sso-session-keys', 1)
        open.onerror = () => reject(open.error)
        open.onsuccess = () => {
          const all = open.result.transaction('keys').objectStore('keys').getAll()
          all.onsuccess = () =>
            resolve((all.result as { privateKey: CryptoKey }[]).map((entry) => entry.privateKey.extractable))
        }
      }),
  )
  expect(extractable.length).toBeGreaterThan(0)
  expect(extractable.every((e) => e === false)).toBe(true)
})

test('behavior: in-policy transactions go through with no popup at all', async ({ chain }) => {
  // This test and the next count within one hourly allowance period: don't start just before an hour boundary.
  const toBoundary = 3600 - ((Date.now() / 1000) % 3600)
  if (toBoundary < 60) await new Promise((r) => setTimeout(r, (toBoundary + 1) * 1000))
  const friendBefore = await chain.getBalance({ address: friend })
  for (const amount of ['4', '4']) {
    await page.getByTestId('session-pay-amount').fill(amount)
    await clickNoPopup(page, 'session-pay-token')
    await expect(page.getByTestId('session-error')).toHaveText('')
    const hash = await readHex(page.getByTestId('session-result'), hashPattern)
    expect((await chain.getTransactionReceipt({ hash })).status).toBe('success')
  }
  await page.getByTestId('session-send-amount').fill('0.01')
  await clickNoPopup(page, 'session-send-eth')
  await expect(page.getByTestId('session-error')).toHaveText('')
  expect(await tokenBalance(chain, shop)).toBe(parseUnits('8', 18))
  expect((await chain.getBalance({ address: friend })) - friendBefore).toBe(parseEther('0.01'))
  await page.getByTestId('session-read-state').click()
  await expect(page.getByTestId('session-state')).toContainText(
    'active; token left this period: 2 MCK; ETH left: 0.01',
  )
})

test('behavior: over the hourly allowance the configured fallback runs: popup by default, an error naming the rule with session=fail', async ({
  stack,
  chain,
}) => {
  // Default: the popup asks for a passkey approval; the user rejects it.
  await page.getByTestId('session-pay-amount').fill('4')
  const popup = await clickForPopup(device, page, 'session-pay-token')
  await expectRequest(popup, stack, 'eth_sendTransaction')
  // The popup says, from the chain, which rule of the app's session the payment breaks and when it resets.
  await expect(popup.getByTestId('session-outside-reason')).toHaveText(
    'This transfer of 4 MCK is more than the 2 MCK left of the session’s limit.',
  )
  await expect(popup.getByTestId('session-outside-limit')).toHaveText(
    /^2 MCK left of 10 MCK per 1 h, resets at .+ \(in \d+ (min|s)/,
  )
  await popup.getByTestId('reject').click()
  await expectClosed(popup)
  await expect(page.getByTestId('session-error')).toContainText('4001')

  // session=fail: the same transaction fails before anything is sent, naming the rule.
  const strict = await device.context.newPage()
  popups = 0
  await strict.goto(`${stack.demoUrl}/?session=fail`)
  await expect(strict.getByTestId('address')).toHaveText(new RegExp(account, 'i'))
  await strict.getByTestId('session-token').fill(token)
  await strict.getByTestId('session-pay-amount').fill('4')
  await clickNoPopup(strict, 'session-pay-token')
  await expect(strict.getByTestId('session-error')).toContainText('[constraint-limit-exceeded]')
  await expect(strict.getByTestId('session-error')).toContainText(/4100/)
  expect(await tokenBalance(chain, shop)).toBe(parseUnits('8', 18))
  await strict.close()
})

test('behavior: in the next allowance period the allowance is available again (no popup)', async ({
  stack,
  chain,
}) => {
  // A fresh hourly session, long enough for two hours of time travel. The travel goes through @sso/devnet's
  // increaseTime, which moves Alto's clock with anvil's: Alto judges a userOp's validity window (the allowance
  // period, chain time) by its own clock.
  await page.getByTestId('session-period').fill('3600')
  await page.getByTestId('session-minutes').fill('240')
  const popup = await clickForPopup(device, page, 'session-request')
  await expectRequest(popup, stack, 'wallet_grantPermissions')
  await expect(popup.getByTestId('session-summary')).toContainText(/10 MCK per hour/)
  await popup.getByTestId('approve').click()
  await expectClosed(popup, 60_000)
  const renewed = await readHex(page.getByTestId('session-id'), hashPattern)
  expect(renewed).not.toBe(sessionId)
  sessionId = renewed

  const strict = await device.context.newPage()
  await strict.goto(`${stack.demoUrl}/?session=fail`)
  await expect(strict.getByTestId('address')).toHaveText(new RegExp(account, 'i'))
  await strict.getByTestId('session-token').fill(token)
  // Travel to just after the next hour boundary: the two payments below fall in the same (new) period.
  const nextPeriod = async () => {
    const now = await travel(0, stack) // mines a block: the chain's present
    const reached = await travel(Math.floor(now / 3600) * 3600 + 3600 + 1 - now, stack)
    expect(reached % 3600).toBeLessThan(60)
  }
  await nextPeriod()
  const before = await tokenBalance(chain, shop)
  await strict.getByTestId('session-pay-amount').fill('10')
  await clickNoPopup(strict, 'session-pay-token')
  await expect(strict.getByTestId('session-error')).toHaveText('')
  await strict.getByTestId('session-pay-amount').fill('4')
  await clickNoPopup(strict, 'session-pay-token')
  await expect(strict.getByTestId('session-error')).toContainText('[constraint-limit-exceeded]')
  // The whole allowance of the period is used: the provider said so.
  await expect(strict.getByTestId('session-events')).toContainText('sessionLimitNearlyUsed')

  await nextPeriod()
  await clickNoPopup(strict, 'session-pay-token')
  await expect(strict.getByTestId('session-error')).toHaveText('')
  await readHex(strict.getByTestId('session-result'), hashPattern)
  expect((await tokenBalance(chain, shop)) - before).toBe(parseUnits('14', 18))
  await strict.close()
  // Back on the wall clock for the next steps. The demo builds session specs from its view of chain time, which
  // it reads every second: let it see the reset before the next session request.
  await resetClock(stack)
  await page.waitForTimeout(1_200)
})

test('behavior: after a revoke (passkey in the popup) the session key is refused with a clear error', async ({
  stack,
  chain,
}) => {
  // A second tab that still holds the session (loaded before the revoke).
  const other = await device.context.newPage()
  await other.goto(`${stack.demoUrl}/?session=fail`)
  await expect(other.getByTestId('address')).toHaveText(new RegExp(account, 'i'))

  const popup = await clickForPopup(device, page, 'session-revoke')
  await expectRequest(popup, stack, 'wallet_revokePermissions')
  await expect(popup.getByTestId('session-summary')).toContainText(sessionId)
  await popup.getByTestId('approve').click()
  await expectClosed(popup, 60_000)
  await expect(page.getByTestId('session-events')).toContainText('sessionRevoked')
  const status = await chain.readContract({
    address: stack.contracts.sessionKeyValidator!,
    abi: sessionKeyValidatorAbi,
    functionName: 'sessionStatus',
    args: [account, sessionId],
  })
  expect(status).toBe(3) // Revoked

  popups = 0
  await other.getByTestId('session-token').fill(token)
  await other.getByTestId('session-send-amount').fill('0.001')
  await clickNoPopup(other, 'session-send-eth')
  await expect(other.getByTestId('session-error')).toContainText('[session-revoked]')
  await expect(other.getByTestId('session-events')).toContainText('sessionRevoked')
  await other.close()
})

test('behavior: an expired session is refused with a clear error', async ({ stack }) => {
  await page.getByTestId('session-minutes').fill('10')
  const popup = await clickForPopup(device, page, 'session-request')
  await expectRequest(popup, stack, 'wallet_grantPermissions')
  await expect(popup.getByTestId('session-expiry')).toContainText(/in 10 minutes/)
  await popup.getByTestId('approve').click()
  await expectClosed(popup, 60_000)
  await readHex(page.getByTestId('session-id'), hashPattern)

  await travel(11 * 60, stack)
  popups = 0
  await page.getByTestId('session-send-amount').fill('0.001')
  await clickNoPopup(page, 'session-send-eth')
  await expect(page.getByTestId('session-error')).toContainText('[session-expired]')
  await expect(page.getByTestId('session-events')).toContainText('sessionExpired')
})

test('behavior: an approve policy shows a warning and Approve waits for the acknowledgement', async ({
  stack,
}) => {
  await page.getByTestId('session-minutes').fill('30')
  await page.getByTestId('session-with-approve').check()
  const popup = await clickForPopup(device, page, 'session-request')
  await expectRequest(popup, stack, 'wallet_grantPermissions')
  await expect(popup.getByTestId('session-warning')).toContainText(/approve on/)
  await expect(popup.getByTestId('session-summary')).toContainText('approve(address,uint256)')
  await expect(popup.getByTestId('approve')).toBeDisabled()
  await popup.getByTestId('session-ack').check()
  await expect(popup.getByTestId('approve')).toBeEnabled()
  await popup.getByTestId('reject').click()
  await expectClosed(popup)
  await expect(page.getByTestId('session-error')).toContainText('4001')
  await page.getByTestId('session-with-approve').uncheck()
})

test('error: bad specs are refused by the client before any popup opens', async () => {
  for (const [kind, rule] of [
    ['expiry-in-past', 'expiry-in-past'],
    ['zero-signer', 'invalid-signer'],
    ['banned-target', 'banned-target'],
    ['unlimited-fee', 'unlimited-fee-limit'],
  ] as const) {
    await page.getByTestId('session-bad-kind').selectOption(kind)
    const before = popups
    await page.getByTestId('session-bad').click()
    await expect(page.getByTestId('session-error')).toContainText(`(${rule} at`)
    await expect(page.getByTestId('session-error')).toContainText('-32602')
    expect(popups).toBe(before)
  }
})

test('error: bad specs sent straight to the popup (no client checks) are refused there too', async ({
  stack,
}) => {
  const auth = new URL(stack.authServerUrl).origin
  const now = Math.floor(Date.now() / 1000)
  const good = {
    signer: `0x${'11'.repeat(20)}`,
    expiresAt: now + 3600,
    feeLimit: { type: 'lifetime', limit: '0x1' },
    callPolicies: [],
    transferPolicies: [
      { target: friend, maxValuePerUse: '0x1', valueLimit: { type: 'lifetime', limit: '0x1' } },
    ],
  }
  const cases = [
    [{ ...good, signer: `0x${'00'.repeat(20)}` }, 'invalid-signer'],
    [{ ...good, feeLimit: { type: 'unlimited' } }, 'unlimited-fee-limit'],
    [{ ...good, transferPolicies: [{ ...good.transferPolicies[0], target: account }] }, 'banned-target'],
    [
      {
        ...good,
        transferPolicies: [{ ...good.transferPolicies[0], target: stack.contracts.sessionKeyValidator }],
      },
      'banned-target',
    ],
  ] as const
  // A hand-written dapp on the demo's origin: opens the popup and speaks the protocol without @sso/client.
  const answers = await page.evaluate(
    async ({ auth, cases, chainId }) => {
      const popup = window.open(
        `${auth}/confirm?origin=${encodeURIComponent(location.origin)}`,
        'raw-session',
      )
      if (!popup) throw new Error('popup blocked')
      const results = await new Promise<unknown[]>((resolve) => {
        const got: unknown[] = []
        window.addEventListener('message', (event) => {
          if (event.origin !== auth) return
          const data = event.data as { type?: string; id?: string }
          if (data.type === 'ready')
            for (const [i, [spec]] of cases.entries())
              popup.postMessage(
                { id: `raw-${i}`, method: 'wallet_grantPermissions', params: [{ spec }], chainId },
                auth,
              )
          if (typeof data.id === 'string' && data.id.startsWith('raw-')) {
            got.push(data)
            if (got.length === cases.length) resolve(got)
          }
        })
      })
      popup.close()
      return results
    },
    { auth, cases: cases as unknown as [unknown, string][], chainId: stack.chainId },
  )
  for (const [i, [, rule]] of cases.entries()) {
    const answer = answers.find((a) => (a as { id: string }).id === `raw-${i}`) as {
      error?: { code: number; message: string; data?: { rule?: string } }
    }
    expect(answer.error?.code, rule).toBe(-32602)
    expect(answer.error?.message).toContain(rule)
  }
})

test('error: an expired spec sent straight to the popup is shown as invalid (chain time) and reported as -32602', async ({
  stack,
  chain,
}) => {
  const chainNow = Number((await chain.getBlock({ blockTag: 'latest' })).timestamp)
  const spec = {
    signer: `0x${'11'.repeat(20)}`,
    expiresAt: chainNow - 60,
    feeLimit: { type: 'lifetime', limit: '0x1' },
    callPolicies: [],
    transferPolicies: [
      { target: friend, maxValuePerUse: '0x1', valueLimit: { type: 'lifetime', limit: '0x1' } },
    ],
  }
  const { popup, answer } = await grantInRawPopup(page, stack, spec, 'raw-expired')
  await expect(popup.getByTestId('session-invalid')).toContainText('expiry-in-past')
  await expect(popup.getByTestId('approve')).toHaveCount(0)
  await expect(popup.getByTestId('request-error')).toContainText('Refused (-32602)')
  await popup.getByTestId('report-error').click()
  const result = (await answer) as { error?: { code: number; message: string } }
  expect(result.error?.code).toBe(-32602)
  expect(result.error?.message).toContain('expiry-in-past')
  await popup.close() // a hand-written dapp: nobody closes it for us
})

test('behavior: a Node session (secp256k1 key) sends through the same contracts; the contract agrees with the local check', async ({
  stack,
  chain,
  anvil,
}) => {
  await resetClock(stack)
  const passkey = createTestPasskey()
  const c = stack.contracts
  const owner = await toSsoAccount({
    client: chain,
    credential: passkey.credential,
    sign: passkey.sign,
    contracts: { accountFactory: c.accountFactory!, webAuthnValidator: c.webAuthnValidator! },
  })
  await anvil.setBalance({ address: owner.address, value: parseEther('1') })
  const bundler = createBundlerClient({
    client: chain,
    transport: http(stack.bundlerUrl),
    pollingInterval: 100,
  })
  // The devnet's SponsorPaymaster pays for what its ERC-7677 service signs.
  const paymaster = createPaymasterClient({ transport: http(stack.chains[0]!.paymasterServiceUrl!) })
  const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
  const now = Number((await chain.getBlock({ blockTag: 'latest' })).timestamp)
  const spec: SessionSpec = {
    signer: signer.publicKey,
    expiresAt: now + 3600,
    feeLimit: lifetime(parseEther('0.05')),
    callPolicies: [],
    transferPolicies: [
      transferPolicy({
        target: friend,
        maxValuePerUse: parseEther('0.01'),
        valueLimit: lifetime(parseEther('0.015')),
      }),
    ],
  }
  validateSessionSpec(spec, { now, account: owner.address, bannedTargets: [c.sessionKeyValidator!] })
  // The first (passkey) userOp deploys the account and creates the session.
  const created = await bundler.sendUserOperation({
    account: owner,
    calls: [
      {
        to: c.sessionKeyValidator!,
        data: encodeFunctionData({
          abi: clientSessionAbi,
          functionName: 'createSession',
          args: [encodeSessionSpec(spec)],
        }),
      },
    ],
    paymaster,
  })
  expect((await bundler.waitForUserOperationReceipt({ hash: created })).success).toBe(true)

  const session = await toSessionAccount({
    client: chain,
    address: owner.address,
    spec,
    signer,
    validator: c.sessionKeyValidator!,
  })
  const hash = await bundler.sendUserOperation({
    account: session,
    calls: [{ to: friend, value: parseEther('0.01') }],
  })
  expect((await bundler.waitForUserOperationReceipt({ hash })).success).toBe(true)
  const state = await getSessionState({
    client: chain,
    validator: c.sessionKeyValidator!,
    account: owner.address,
    spec,
  })
  expect(state.status).toBe('active')
  expect(state.transferValueRemaining).toEqual([parseEther('0.005')])
  expect(state.feeRemaining).toBeLessThan(parseEther('0.05')) // the account paid the gas: counted

  // Over the limit: the local check names the rule, and the contract refuses the same userOp.
  const over = [{ to: friend, value: parseEther('0.01') }]
  expect(checkSessionCalls(spec, over, { account: owner.address, state })?.rule).toBe('value-limit-exceeded')
  expect(await refusal(bundler.sendUserOperation({ account: session, calls: over }))).toEqual({
    errorName: 'TransferValueLimitExceeded',
    args: [friend, parseEther('0.01'), parseEther('0.005')],
  })
  // Another target: no policy, locally and on chain.
  const other = [{ to: shop, value: 1n }]
  expect(checkSessionCalls(spec, other, { account: owner.address, state })?.rule).toBe('no-transfer-policy')
  expect(await refusal(bundler.sendUserOperation({ account: session, calls: other }))).toEqual({
    errorName: 'NoTransferPolicy',
    args: [shop],
  })
})
