import type { Page } from '@playwright/test'
import { nonceKey } from '@sso/client/account'
import { ssoAccountAbi, webAuthnValidatorAbi } from '@sso/contracts-abi'
import {
  type Address,
  encodeFunctionData,
  formatEther,
  type Hex,
  hexToString,
  parseEther,
  stringToHex,
  type TypedDataDefinition,
} from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage, parseSiweMessage } from 'viem/siwe'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import {
  expectClosed,
  expectRequest,
  fillSend,
  hashPattern,
  logIn,
  openDemo,
  readAddress,
  readHex,
  signUp,
} from '../fixtures/flows.js'
import { startHostileOrigin } from '../fixtures/hostile.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { publicClient } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Issue "Sign-on popup and client SDK": one user's story through real popups, real passkeys (CDP virtual
 * authenticator), the devnet and Alto. The steps share one browser context (the user's device) and run in order.
 */
test.describe.configure({ mode: 'serial' })

let device: Device
let page: Page
let account: Address
// This user's synced passkeys (their keychain), apart from the other specs' users.
const syncedPasskeys = new PasskeyStore()

test.beforeAll(async ({ browser }) => {
  device = await newDevice(browser, syncedPasskeys)
  page = await device.context.newPage()
})

test.afterAll(async () => {
  await device?.context.close()
})

/** The last protocol request the popup received for `method`. */
function lastRequest(authOrigin: string, method: string) {
  const found = device.messages.requestsAt(authOrigin).filter((m) => m.data.method === method)
  const last = found.at(-1)
  if (!last) throw new Error(`the popup received no ${method} request`)
  return last.data as { id: string; method: string; params: unknown[]; chainId: number }
}

/** The answer the demo received for request `id`. */
function answerTo(dappOrigin: string, id: string) {
  return device.messages.answersAt(dappOrigin).find((m) => m.data.id === id)?.data
}

test('behavior: sign up in the popup creates a passkey and connects the demo', async ({ stack, chain }) => {
  await openDemo(page, stack)
  await expect(page.getByTestId('address')).not.toHaveText(/0x[0-9a-fA-F]{40}/)
  const before = syncedPasskeys.size

  const { address } = await signUp(device, page, stack)
  account = address

  // A passkey was created in the popup and synced.
  expect(syncedPasskeys.size).toBe(before + 1)
  expect(device.passkeys.events.filter((e) => e.kind === 'created')).toHaveLength(1)
  expect(device.passkeys.events[0]?.url).toContain(new URL(stack.authServerUrl).host)
  // Sign-up deployed the account and registered the passkey with the WebAuthnValidator.
  expect((await chain.getCode({ address: account }))?.length ?? 0).toBeGreaterThan(2)
  const validator = stack.contracts.webAuthnValidator!
  // Deployed by a userOp the new passkey signed: its passkey nonce moved, which is what tells log-in on another
  // device that this key (and not the other key recovered from an assertion) is the account's.
  const nonce = await chain.readContract({
    address: stack.contracts.entryPoint!,
    abi: entryPoint08Abi,
    functionName: 'getNonce',
    args: [account, nonceKey(validator)],
  })
  expect(nonce).toBe((nonceKey(validator) << 64n) | 1n)
  expect(
    await chain.readContract({
      address: validator,
      abi: webAuthnValidatorAbi,
      functionName: 'passkeyCount',
      args: [account],
    }),
  ).toBe(1n)

  // The protocol ran over postMessage with the browser-given origins: ready -> request -> answer.
  const auth = new URL(stack.authServerUrl).origin
  const dapp = new URL(stack.demoUrl).origin
  const request = lastRequest(auth, 'eth_requestAccounts')
  expect(device.messages.receivedAt(auth, dapp).length).toBeGreaterThan(0)
  expect(
    device.messages.receivedAt(dapp, auth).some((m) => (m.data as { type?: string }).type === 'ready'),
  ).toBe(true)
  const answer = answerTo(dapp, request.id) as { result: { accounts: Address[]; chainId: number } }
  expect(answer.result.accounts[0]?.toLowerCase()).toBe(account.toLowerCase())
  expect(answer.result.chainId).toBe(stack.chainId)
  // Nothing the popup sends lands anywhere but the dapp's origin.
  expect(device.messages.all.filter((m) => m.direction === 'posted' && m.origin === '*')).toEqual([])
})

test('behavior: disconnect, then connect again with the account the popup remembers', async ({ stack }) => {
  await page.getByTestId('disconnect').click()
  await expect(page.getByTestId('address')).toHaveText(/not connected/i)
  const ceremonies = device.passkeys.events.length
  const passkeys = syncedPasskeys.size
  const popup = await clickForPopup(device, page, 'connect')
  await expectRequest(popup, stack, 'eth_requestAccounts')
  await expect(popup.getByTestId('account-address')).toHaveText(account)
  await popup.getByTestId('approve').click()
  await expectClosed(popup)
  expect(await readAddress(page)).toBe(account)
  // Connecting a known account needs no passkey ceremony and creates no passkey.
  expect(device.passkeys.events.length).toBe(ceremonies)
  expect(syncedPasskeys.size).toBe(passkeys)
})

test('behavior: send ETH through the popup moves the balance on chain', async ({ stack, chain, anvil }) => {
  await anvil.setBalance({ address: account, value: parseEther('1') })
  const to = privateKeyToAccount(generatePrivateKey()).address
  expect(await chain.getBalance({ address: to })).toBe(0n)

  await fillSend(page, to, '0.0123')
  const popup = await clickForPopup(device, page, 'send-eth')
  await expectRequest(popup, stack, 'eth_sendTransaction')
  await expect(popup.getByTestId('tx-target')).toContainText(new RegExp(to.slice(2), 'i'))
  await expect(popup.getByTestId('tx-value')).toContainText('0.0123')
  await popup.getByTestId('approve').click()
  await expectClosed(popup)

  const hash = await readHex(page.getByTestId('tx-hash'), hashPattern)
  const receipt = await chain.getTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
  expect(await chain.getBalance({ address: to })).toBe(parseEther('0.0123'))
  const left = await chain.getBalance({ address: account })
  expect(left).toBeLessThanOrEqual(parseEther('1') - parseEther('0.0123'))
  // The demo shows the new balance.
  await expect(page.getByTestId('balance')).toContainText(/0\.98/)
})

test('error: sending more ETH than the account holds is refused before the passkey, saying how much is missing', async ({
  stack,
  chain,
}) => {
  const to = privateKeyToAccount(generatePrivateKey()).address
  const balance = await chain.getBalance({ address: account })
  const assertions = device.passkeys.events.filter((e) => e.kind === 'asserted').length
  await fillSend(page, to, '5')
  const popup = await clickForPopup(device, page, 'send-eth')
  await expectRequest(popup, stack, 'eth_sendTransaction')
  await popup.getByTestId('approve').click()
  const deposit = await chain.readContract({
    address: stack.contracts.entryPoint!,
    abi: entryPoint08Abi,
    functionName: 'balanceOf',
    args: [account],
  })
  // Amounts in the message are rounded up to 6 decimals.
  const up = (wei: bigint) => formatEther(((wei + 10n ** 12n - 1n) / 10n ** 12n) * 10n ** 12n)
  await expect(popup.getByTestId('request-error-message')).toHaveText(
    `The account can’t pay for this: it needs 5 ETH to send, and holds ${up(balance)} ETH` +
      `${deposit > 0n ? ` plus a ${up(deposit)} ETH EntryPoint deposit` : ''}. ` +
      `Add at least ${up(parseEther('5') - balance)} ETH to ${account}, then try again. Nothing was signed.`,
  )
  await expect(popup.getByTestId('request-error')).toContainText('-32003')
  for (const width of [360, 440]) {
    await popup.setViewportSize({ width, height: 700 })
    expect(
      await popup.evaluate(
        () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
      ),
    ).toBe(true)
    await popup.screenshot({ path: test.info().outputPath(`cannot-pay-${width}.png`), fullPage: true })
  }
  // No passkey was asked and nothing moved.
  expect(device.passkeys.events.filter((e) => e.kind === 'asserted')).toHaveLength(assertions)
  await popup.getByTestId('report-error').click()
  await expectClosed(popup)
  await expect(page.getByTestId('error')).toContainText('-32003')
  expect(await chain.getBalance({ address: to })).toBe(0n)
  expect(await chain.getBalance({ address: account })).toBe(balance)
})

// The demo's batch: 0.0001 ETH to each of these, atomically.
const batchRecipients = [
  '0x000000000000000000000000000000000000dEaD',
  '0x00000000000000000000000000000000DeaDBeef',
] as const

test('behavior: a batch (wallet_sendCalls) is confirmed on chain', async ({ stack, chain }) => {
  const before = await Promise.all(batchRecipients.map((address) => chain.getBalance({ address })))
  const popup = await clickForPopup(device, page, 'send-batch')
  await expectRequest(popup, stack, 'wallet_sendCalls')
  await expect(popup.getByTestId('tx-call')).toHaveCount(2)
  await expect(popup.getByTestId('tx-target')).toHaveText(batchRecipients.map((a) => new RegExp(a, 'i')))
  await popup.getByTestId('approve').click()
  await expectClosed(popup)
  const id = await readHex(page.getByTestId('batch-id'), hashPattern)
  await expect(page.getByTestId('batch-status')).toContainText(/confirmed/i, { timeout: 30_000 })

  // The bundler agrees: the userOp of the batch succeeded in a mined transaction.
  const response = await fetch(stack.bundlerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getUserOperationReceipt', params: [id] }),
  })
  const { result } = (await response.json()) as {
    result: { success: boolean; sender: Address; receipt: { transactionHash: Hex } } | null
  }
  expect(result?.success).toBe(true)
  expect(result?.sender.toLowerCase()).toBe(account.toLowerCase())
  const receipt = await chain.getTransactionReceipt({ hash: result!.receipt.transactionHash })
  expect(receipt.status).toBe('success')
  const after = await Promise.all(batchRecipients.map((address) => chain.getBalance({ address })))
  expect(after.map((balance, i) => balance - before[i]!)).toEqual([
    parseEther('0.0001'),
    parseEther('0.0001'),
  ])
})

test('behavior: wallet_showCallsStatus shows the batch in the popup: confirmed, its calls and transaction', async ({
  stack,
  chain,
}) => {
  const id = await readHex(page.getByTestId('batch-id'), hashPattern)
  const popup = await clickForPopup(device, page, 'show-batch')
  await expectRequest(popup, stack, 'wallet_showCallsStatus')
  await expect(popup.getByTestId('calls-status')).toHaveAttribute('data-status', 'confirmed')
  await expect(popup.getByTestId('calls-status')).toHaveText('Confirmed')
  await expect(popup.getByTestId('calls-id')).toHaveText(id)
  await expect(popup.getByTestId('calls-target')).toHaveText(batchRecipients.map((a) => new RegExp(a, 'i')))
  await expect(popup.getByTestId('calls-value')).toHaveText(['0.0001 ETH', '0.0001 ETH'])
  const transaction = (await popup.getByTestId('calls-transaction').textContent()) as Hex
  expect((await chain.getTransactionReceipt({ hash: transaction })).status).toBe('success')
  await expect(popup.getByTestId('calls-block')).toHaveText(
    String((await chain.getTransactionReceipt({ hash: transaction })).blockNumber),
  )
  // A status screen has nothing to reject: one Close button.
  await expect(popup.getByTestId('reject')).toHaveCount(0)
  for (const width of [360, 440]) {
    await popup.setViewportSize({ width, height: 900 })
    await popup.screenshot({ path: test.info().outputPath(`calls-status-${width}.png`), fullPage: true })
  }
  await popup.getByTestId('approve').click()
  await expectClosed(popup)
  await expect(page.getByTestId('batch-shown')).toHaveText('shown')
})

test('behavior: personal_sign gives a signature viem verifies against the chain', async ({
  stack,
  chain,
}) => {
  const popup = await clickForPopup(device, page, 'sign-message')
  await expectRequest(popup, stack, 'personal_sign')
  const request = lastRequest(new URL(stack.authServerUrl).origin, 'personal_sign')
  // The popup shows exactly the text being signed.
  await expect(popup.getByTestId('message-text')).toHaveText(hexToString(request.params[0] as Hex))
  await popup.getByTestId('approve').click()
  await expectClosed(popup)

  const signature = await readHex(page.getByTestId('signature'), /0x[0-9a-fA-F]{130,}/)
  await expect(page.getByTestId('verify-result')).toContainText(/true|valid/i)
  const message = { raw: request.params[0] as Hex }
  expect(await chain.verifyMessage({ address: account, message, signature })).toBe(true)
  // The same signature does not verify another message.
  expect(await chain.verifyMessage({ address: account, message: 'something else', signature })).toBe(false)
})

test('behavior: eth_signTypedData_v4 gives a signature viem verifies against the chain', async ({
  stack,
  chain,
}) => {
  const popup = await clickForPopup(device, page, 'sign-typed-data')
  await expectRequest(popup, stack, 'eth_signTypedData_v4')
  await expect(popup.getByTestId('typed-primary-type')).toHaveText('Mail')
  await expect(popup.getByTestId('typed-domain')).toContainText('SSO Demo')
  await popup.getByTestId('approve').click()
  await expectClosed(popup)

  const signature = await readHex(page.getByTestId('signature'), /0x[0-9a-fA-F]{130,}/)
  await expect(page.getByTestId('typed-verify-result')).toContainText(/true|valid/i)
  const request = lastRequest(new URL(stack.authServerUrl).origin, 'eth_signTypedData_v4')
  const raw = request.params[1]
  const typed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as TypedDataDefinition
  expect(await chain.verifyTypedData({ address: account, ...typed, signature })).toBe(true)
  const tampered = { ...typed, domain: { ...typed.domain, name: 'Not the dapp' } } as TypedDataDefinition
  expect(await chain.verifyTypedData({ address: account, ...tampered, signature })).toBe(false)
})

test('error: rejecting in the popup gives the demo a 4001', async ({ stack }) => {
  const popup = await clickForPopup(device, page, 'sign-message')
  await expectRequest(popup, stack, 'personal_sign')
  await popup.getByTestId('reject').click()
  await expectClosed(popup)
  await expect(page.getByTestId('error')).toContainText('4001')
  const request = lastRequest(new URL(stack.authServerUrl).origin, 'personal_sign')
  const answer = answerTo(new URL(stack.demoUrl).origin, request.id) as { error?: { code: number } }
  expect(answer.error?.code).toBe(4001)
})

test('error: closing the popup mid-request gives the demo a 4001 within a second or so', async ({
  stack,
}) => {
  // Clear the previous error so the assertion sees the new one.
  await page.reload()
  await expect(page.getByTestId('error')).not.toContainText('4001')
  const popup = await clickForPopup(device, page, 'sign-message')
  await expectRequest(popup, stack, 'personal_sign')
  const closedAt = Date.now()
  await popup.close()
  await expect(page.getByTestId('error')).toContainText('4001', { timeout: 5_000 })
  const elapsed = Date.now() - closedAt
  test.info().annotations.push({ type: 'close -> 4001 (ms)', description: String(elapsed) })
  // docs/architecture.md, section 4: within a second (plus the test's own polling).
  expect(elapsed).toBeLessThan(1_500)
  expect(page.isClosed()).toBe(false)
})

test('behavior: a reload keeps the connection', async () => {
  await page.reload()
  expect(await readAddress(page)).toBe(account)
  // No popup was needed to restore it.
  expect(device.context.pages()).toHaveLength(1)
  await expect(page.getByTestId('address')).toContainText(account.slice(2, 10), { ignoreCase: true })
})

test('behavior: a fresh browser with the synced passkey logs in to the same account', async ({
  browser,
  stack,
}) => {
  const other = await newDevice(browser, syncedPasskeys)
  try {
    const fresh = await other.context.newPage()
    await openDemo(fresh, stack)
    await expect(fresh.getByTestId('address')).not.toHaveText(/0x[0-9a-fA-F]{40}/)
    const passkeysBefore = syncedPasskeys.size
    const { address } = await logIn(other, fresh, stack)
    expect(address).toBe(account)
    // Logged in with the existing passkey: an assertion, no new credential.
    expect(other.passkeys.events.map((e) => e.kind)).toEqual(['asserted'])
    expect(syncedPasskeys.size).toBe(passkeysBefore)
  } finally {
    await other.context.close()
  }
})

test('error: a message posted to the popup from another origin changes nothing', async ({ stack, chain }) => {
  const auth = new URL(stack.authServerUrl).origin
  const dapp = new URL(stack.demoUrl).origin
  const evil = await startHostileOrigin()
  try {
    const popup = await clickForPopup(device, page, 'sign-message')
    await expectRequest(popup, stack, 'personal_sign')
    const message = await popup.getByTestId('message-text').textContent()
    const pending = lastRequest(auth, 'personal_sign')
    const attacker = privateKeyToAccount(generatePrivateKey()).address

    // A window of another origin opened from the popup holds references to the popup (opener) and the dapp
    // (opener.opener). (A frame cannot do it: the auth server's Content-Security-Policy refuses foreign frames.)
    await popup.evaluate((url) => {
      const button = document.createElement('button')
      button.id = 'open-hostile'
      button.textContent = 'open'
      button.onclick = () => window.open(url, 'hostile')
      document.body.append(button)
    }, evil.url)
    const openedHostile = popup.waitForEvent('popup')
    await popup.locator('#open-hostile').click()
    const hostile = await openedHostile
    await hostile.waitForLoadState('load')
    await hostile.evaluate(
      ({ pendingId, chainId, attacker, account }) => {
        const sso = opener as Window
        // Forged requests to the popup.
        sso.postMessage(
          { id: 'evil-1', method: 'personal_sign', params: ['0x6576696c', account], chainId },
          '*',
        )
        sso.postMessage(
          {
            id: 'evil-2',
            method: 'eth_sendTransaction',
            params: [{ to: attacker, value: '0xde0b6b3a7640000' }],
            chainId,
          },
          '*',
        )
        // A forged answer to the dapp's pending request.
        sso.opener?.postMessage({ id: pendingId, result: `0x${'ab'.repeat(65)}` }, '*')
      },
      { pendingId: pending.id, chainId: stack.chainId, attacker, account },
    )
    await hostile.close()
    await popup.locator('#open-hostile').evaluate((button) => button.remove())

    // The hostile messages were delivered (so the checks below can fail)…
    await expect.poll(() => device.messages.receivedAt(auth, evil.origin).length).toBe(2)
    await expect.poll(() => device.messages.receivedAt(dapp, evil.origin).length).toBe(1)
    await page.waitForTimeout(1_000)
    // …and changed nothing: the popup still shows the dapp's request, answered no one, the dapp took no answer.
    await expectRequest(popup, stack, 'personal_sign')
    await expect(popup.getByTestId('message-text')).toHaveText(message ?? '')
    await expect(popup.getByTestId('queue-length')).toHaveCount(0)
    expect(device.messages.receivedAt(evil.origin)).toEqual([])
    expect(answerTo(dapp, 'evil-1')).toBeUndefined()
    expect(answerTo(dapp, 'evil-2')).toBeUndefined()
    await expect(page.getByTestId('signature')).not.toContainText('abababab')
    expect(await chain.getBalance({ address: attacker })).toBe(0n)

    // The real request still completes with a valid signature.
    await popup.getByTestId('approve').click()
    await expectClosed(popup)
    const signature = await readHex(page.getByTestId('signature'), /0x[0-9a-fA-F]{130,}/)
    expect(signature).not.toContain('abababab')
    expect(
      await chain.verifyMessage({ address: account, message: { raw: pending.params[0] as Hex }, signature }),
    ).toBe(true)
  } finally {
    await evil.close()
  }
})

test('error: malformed and unknown requests from the dapp get -32602 / -32601 and change nothing', async ({
  stack,
  chain,
}) => {
  const auth = new URL(stack.authServerUrl).origin
  const dapp = new URL(stack.demoUrl).origin
  const popup = await clickForPopup(device, page, 'sign-message')
  await expectRequest(popup, stack, 'personal_sign')
  const pending = lastRequest(auth, 'personal_sign')
  const shown = await popup.getByTestId('message-text').textContent()

  // Straight from the dapp window (the popup's opener), bypassing the SDK's own validation.
  await page.evaluate(
    ({ auth, chainId, account }) => {
      const popups = (window as unknown as { __ssoE2ePopups: Window[] }).__ssoE2ePopups
      const target = popups[popups.length - 1]!
      target.postMessage(
        { id: 'bad-params', method: 'personal_sign', params: ['not hex', account], chainId },
        auth,
      )
      target.postMessage({ id: 'bad-method', method: 'eth_exportPrivateKey', params: [], chainId }, auth)
      target.postMessage('garbage', auth)
      target.postMessage({ method: 'personal_sign', params: ['0x00', account], chainId }, auth)
    },
    { auth, chainId: stack.chainId, account },
  )
  await expect
    .poll(() => (answerTo(dapp, 'bad-params') as { error?: { code: number } })?.error?.code)
    .toBe(-32602)
  await expect
    .poll(() => (answerTo(dapp, 'bad-method') as { error?: { code: number } })?.error?.code)
    .toBe(-32601)

  // The pending request is untouched and still completes.
  await expectRequest(popup, stack, 'personal_sign')
  await expect(popup.getByTestId('message-text')).toHaveText(shown ?? '')
  await expect(popup.getByTestId('queue-length')).toHaveCount(0)
  await popup.getByTestId('approve').click()
  await expectClosed(popup)
  const signature = await readHex(page.getByTestId('signature'), /0x[0-9a-fA-F]{130,}/)
  expect(
    await chain.verifyMessage({ address: account, message: { raw: pending.params[0] as Hex }, signature }),
  ).toBe(true)
})

test('behavior: Sign-In with Ethereum: the popup names the site it signs in to; the signature signs in there, once', async ({
  stack,
  chain,
}) => {
  const popup = await clickForPopup(device, page, 'sign-in')
  await expectRequest(popup, stack, 'personal_sign')
  const host = new URL(stack.demoUrl).host
  await expect(popup.getByRole('heading', { name: `Sign in to ${host}` })).toBeVisible()
  await expect(popup.getByTestId('siwe-ok')).toBeVisible()
  await expect(popup.getByTestId('siwe-warning')).toHaveCount(0)
  await popup.getByTestId('approve').click()
  await expectClosed(popup)
  await expect(page.getByTestId('siwe-result')).toHaveText(`signed in as ${account}`)

  // What a dapp's server would do with it: valid for this domain and nonce; not for another domain or nonce.
  const request = lastRequest(new URL(stack.authServerUrl).origin, 'personal_sign')
  const message = hexToString(request.params[0] as Hex)
  const signature = await readHex(page.getByTestId('signature'), /0x[0-9a-fA-F]{130,}/)
  const { nonce } = parseSiweMessage(message)
  expect(await chain.verifySiweMessage({ message, signature, domain: host, nonce })).toBe(true)
  expect(await chain.verifySiweMessage({ message, signature, domain: 'bank.example' })).toBe(false)
  expect(await chain.verifySiweMessage({ message, signature, nonce: 'another1nonce' })).toBe(false)
})

test('attack: a page asks for a sign-in to another site: the popup says so before the passkey', async ({
  stack,
}) => {
  const { popup, post } = await openRawPopup(stack)
  const phishing = createSiweMessage({
    address: account,
    chainId: stack.chainId,
    domain: 'bank.example',
    nonce: 'abcdefgh12',
    uri: 'https://bank.example/login',
    version: '1',
  })
  await post({
    id: 'phishing',
    method: 'personal_sign',
    params: [stringToHex(phishing), account],
    chainId: stack.chainId,
  })
  await expect(popup.getByRole('heading', { name: 'Sign in to bank.example' })).toBeVisible()
  await expect(popup.getByTestId('siwe-warning')).toContainText(
    `It signs you in to bank.example, but the request comes from ${new URL(stack.demoUrl).origin}.`,
  )
  await expect(popup.getByTestId('siwe-ok')).toHaveCount(0)
  for (const width of [360, 440]) {
    await popup.setViewportSize({ width, height: 720 })
    await popup.screenshot({ path: test.info().outputPath(`siwe-warning-${width}.png`), fullPage: true })
    expect(await popup.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
  }
  await popup.getByTestId('reject').click()
  await expect
    .poll(
      () =>
        (answerTo(new URL(stack.demoUrl).origin, 'phishing') as { error?: { code: number } })?.error?.code,
    )
    .toBe(4001)
  await popup.close()
})

test('error: a raw wallet_sendCalls naming two chains gets -32602, is never shown, and sends nothing', async ({
  stack,
}) => {
  const dapp = new URL(stack.demoUrl).origin
  const second = stack.chains.find((c) => c.id !== stack.chainId)
  if (!second) throw new Error('the stack has no second chain (startStack({ secondChain: true }))')
  const recipient = privateKeyToAccount(generatePrivateKey()).address
  // Both chains are configured in the popup: before the fix it showed the envelope's chain (31337) and built the
  // userOp for params[0].chainId (31338). Watch both chains for any effect.
  const clients = [publicClient(stack), publicClient(stack, second)]
  const onChain = () =>
    Promise.all(
      clients.flatMap((client) => [
        client.readContract({
          address: stack.contracts.entryPoint!,
          abi: entryPoint08Abi,
          functionName: 'getNonce',
          args: [account, nonceKey(stack.contracts.webAuthnValidator!)],
        }),
        client.getBalance({ address: account }),
        client.getBalance({ address: recipient }),
      ]),
    )
  const before = await onChain()

  // The dapp page opens the popup itself (a real click, the SDK's URL) and posts raw messages into it, bypassing the
  // SDK's own checks: the popup must not trust the client.
  const { popup, post } = await openRawPopup(stack)
  const batch = (chainId: number) => ({
    version: '2.0.0',
    chainId: `0x${chainId.toString(16)}`,
    from: account,
    atomicRequired: true,
    calls: [{ to: recipient, value: '0x2386f26fc10000' }], // 0.01 ETH
  })
  await post({
    id: 'two-chains',
    method: 'wallet_sendCalls',
    params: [batch(second.id)],
    chainId: stack.chainId,
  })

  const message = `Conflicting chains in the request: request.chainId is ${stack.chainId} but params[0].chainId is 0x${second.id.toString(16)} (${second.id}).`
  await expect
    .poll(() => answerTo(dapp, 'two-chains'))
    .toEqual({
      id: 'two-chains',
      error: {
        code: -32602,
        message,
        data: {
          reason: 'conflicting_params',
          what: 'chains',
          fields: [
            { field: 'request.chainId', value: String(stack.chainId) },
            { field: 'params[0].chainId', value: `0x${second.id.toString(16)} (${second.id})` },
          ],
        },
      },
    })
  // Nothing was shown for approval: the popup answered at once and has nothing left to show.
  await expect(popup.getByTestId('done')).toBeVisible()
  await expect(popup.getByTestId('approve')).toHaveCount(0)
  await expect(popup.getByTestId('tx-call')).toHaveCount(0)
  await expect(popup.getByTestId('request-method')).toHaveCount(0)

  // The same batch stating one chain is shown for that chain, with what would be executed; the user rejects it.
  await post({ id: 'one-chain', method: 'wallet_sendCalls', params: [batch(second.id)], chainId: second.id })
  await expect(popup.getByTestId('request-method')).toHaveText('wallet_sendCalls')
  await expect(popup.getByTestId('request-chain')).toContainText(`(${second.id})`)
  await expect(popup.getByTestId('tx-chain')).toContainText(`(${second.id})`)
  await expect(popup.getByTestId('tx-from')).toHaveText(new RegExp(`^${account}$`, 'i'))
  await expect(popup.getByTestId('tx-target')).toHaveText(new RegExp(`^${recipient}$`, 'i'))
  await expect(popup.getByTestId('tx-value')).toHaveText('0.01 ETH')
  await expect(popup.getByTestId('tx-data')).toHaveText('none')
  await popup.getByTestId('reject').click()
  await expect
    .poll(() => (answerTo(dapp, 'one-chain') as { error?: { code: number } })?.error?.code)
    .toBe(4001)
  await popup.close()

  // Nothing reached either chain: same nonces and balances (given time for a userOp to be bundled).
  await page.waitForTimeout(2_000)
  expect(await onChain()).toEqual(before)
  expect(device.messages.all.filter((m) => m.direction === 'posted' && m.origin === '*')).toEqual([])
})

test("attack: an app's transaction that would add its own passkey or module to the account is refused before the passkey, 4100", async ({
  stack,
  chain,
}) => {
  const dapp = new URL(stack.demoUrl).origin
  const validator = stack.contracts.webAuthnValidator!
  const nonce = () =>
    chain.readContract({
      address: stack.contracts.entryPoint!,
      abi: entryPoint08Abi,
      functionName: 'getNonce',
      args: [account, nonceKey(validator)],
    })
  const before = await nonce()
  const ceremonies = device.passkeys.events.length
  // What a hostile page would ask: its own passkey on the account (addPasskey with its own proof: any bytes here,
  // the popup must not get that far), then its own executor installed through the account itself.
  const addPasskey = encodeFunctionData({
    abi: webAuthnValidatorAbi,
    functionName: 'addPasskey',
    args: ['0x01', `0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`, 'localhost', 'http://localhost', '0x'],
  })
  const installExecutor = encodeFunctionData({
    abi: ssoAccountAbi,
    functionName: 'installModule',
    args: [2n, '0x000000000000000000000000000000000000bEEF', '0x'],
  })
  const { popup, post } = await openRawPopup(stack)
  await post({
    id: 'own-passkey',
    method: 'eth_sendTransaction',
    params: [{ from: account, to: validator, data: addPasskey }],
    chainId: stack.chainId,
  })
  await post({
    id: 'own-executor',
    method: 'wallet_sendCalls',
    params: [
      {
        version: '2.0.0',
        chainId: `0x${stack.chainId.toString(16)}`,
        from: account,
        atomicRequired: true,
        calls: [
          { to: privateKeyToAccount(generatePrivateKey()).address },
          { to: account, data: installExecutor },
        ],
      },
    ],
    chainId: stack.chainId,
  })
  const refused = (id: string) => () =>
    (answerTo(dapp, id) as { error?: { code: number; message: string; data?: unknown } } | undefined)?.error
  await expect.poll(refused('own-passkey')).toMatchObject({
    code: 4100,
    message: expect.stringMatching(
      /^Apps can't change the account's own configuration: call 0 goes to passkeys \(WebAuthnValidator\)/,
    ),
    data: { reason: 'account-configuration', call: 0 },
  })
  await expect.poll(refused('own-executor')).toMatchObject({
    code: 4100,
    message: expect.stringContaining('call 1 goes to the account itself'),
    data: { reason: 'account-configuration', call: 1 },
  })
  // Never shown, no passkey asked, nothing sent.
  await expect(popup.getByTestId('done')).toBeVisible()
  await expect(popup.getByTestId('approve')).toHaveCount(0)
  expect(device.passkeys.events.length).toBe(ceremonies)
  await popup.close()
  expect(await nonce()).toBe(before)
})

test('behavior: the popup names the real requester, not the origin its URL claims', async ({ stack }) => {
  const auth = new URL(stack.authServerUrl).origin
  const dapp = new URL(stack.demoUrl).origin
  const evil = await startHostileOrigin()
  const hostile = await device.context.newPage()
  try {
    await hostile.goto(evil.url)
    // The attacker opens the popup claiming to be the demo (`?origin=<demo>`), from a real click.
    await hostile.evaluate(
      (url) => {
        const button = document.createElement('button')
        button.id = 'open'
        button.textContent = 'open'
        button.onclick = () => {
          ;(window as unknown as { sso: Window | null }).sso = window.open(url, 'evil-sso', 'popup')
        }
        document.body.append(button)
      },
      `${auth}/confirm?origin=${encodeURIComponent(dapp)}`,
    )
    const opened = hostile.waitForEvent('popup')
    await hostile.locator('#open').click()
    const popup = await opened
    await device.passkeys.ready(popup)
    await expect(popup.getByTestId('waiting')).toBeVisible()
    // The popup's `ready` went to the claimed origin, so the browser never delivered it to the attacker.
    await popup.waitForTimeout(500)
    expect(device.messages.receivedAt(evil.origin, auth)).toEqual([])

    await hostile.evaluate(
      ({ auth, chainId, account }) => {
        const sso = (window as unknown as { sso: Window }).sso
        const message = '0x5472616e736665722065766572797468696e67' // "Transfer everything"
        sso.postMessage({ id: 'phish-1', method: 'personal_sign', params: [message, account], chainId }, auth)
      },
      { auth, chainId: stack.chainId, account },
    )
    // The popup shows who really asked (from event.origin), not the demo the URL named.
    await expect(popup.getByTestId('request-origin')).toHaveText(evil.origin)
    await expect(popup.getByTestId('request-method')).toHaveText('personal_sign')
    await popup.getByTestId('reject').click()
    await expect
      .poll(() => device.messages.receivedAt(evil.origin, auth).map((m) => m.data))
      .toContainEqual(
        expect.objectContaining({ id: 'phish-1', error: expect.objectContaining({ code: 4001 }) }),
      )
    // Nothing reached the demo.
    expect(answerTo(dapp, 'phish-1')).toBeUndefined()
    await popup.close()
  } finally {
    await hostile.close()
    await evil.close()
  }
})

test('behavior: no uncaught exception in the demo or the popups during the whole story', async () => {
  expect(device.pageErrors).toEqual([])
})

/**
 * The dapp page opens the popup itself (a real click, the SDK's URL) and posts raw messages into it, bypassing the
 * SDK's own checks: what a hostile page could do. Resolves once the popup said `ready`.
 */
async function openRawPopup(stack: { authServerUrl: string; demoUrl: string }) {
  const auth = new URL(stack.authServerUrl).origin
  const dapp = new URL(stack.demoUrl).origin
  await page.evaluate(
    (url) => {
      document.getElementById('raw-popup')?.remove()
      const button = document.createElement('button')
      button.id = 'raw-popup'
      button.textContent = 'raw'
      button.onclick = () => {
        ;(window as unknown as { raw: Window | null }).raw = window.open(url, 'sso-raw', 'popup')
      }
      document.body.append(button)
    },
    `${auth}/confirm?origin=${encodeURIComponent(dapp)}`,
  )
  const opened = page.waitForEvent('popup')
  await page.locator('#raw-popup').click()
  const popup = await opened
  await device.passkeys.ready(popup)
  await expect(popup.getByTestId('waiting')).toBeVisible()
  await expect
    .poll(() =>
      device.messages.receivedAt(dapp, auth).some((m) => (m.data as { type?: string }).type === 'ready'),
    )
    .toBe(true)
  const post = (message: unknown) =>
    page.evaluate(
      ({ message, auth }) => (window as unknown as { raw: Window }).raw.postMessage(message, auth),
      { message, auth },
    )
  return { popup, post }
}
