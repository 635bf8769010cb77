import type { BrowserContext, Page } from '@playwright/test'
import { getRecoveryState, guardianExecutorAbi, type RecoveryProposal } from '@sso/client/recovery'
import { type Address, getAddress, type Hex, parseEther, type TypedDataDomain, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice, setupDevice } from '../fixtures/device.js'
import { addressPattern, expectClosed, fillSend, hashPattern, openDemo, readHex } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { resetClock, type StackInfo, travel } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Issue "Recovery and devices", guardian flows in the auth server (docs/recovery.md, "In the auth server"): the
 * owner sets up an SSO-account guardian and an EOA guardian (an injected EIP-1193 wallet backed by an anvil key)
 * at 2 of 2; a new device recovers the account (both approve, the delay passes, it finalizes, its new passkey
 * logs in and sends a transaction); the owner cancels a pending recovery; an expired one can't be finalized.
 * Each person is a browser context with its own passkeys. Steps run in order.
 */
test.describe.configure({ mode: 'serial' })

// anvil's account #6 (0-2 are the deployer and Alto's keys; the sessions spec uses #5).
const eoaKey: Hex = '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e'
const eoa = privateKeyToAccount(eoaKey)
const day = 86_400

let owner: Device
let ownerPage: Page
let guardian: Device
let guardianPage: Page
let wallet: Device
let walletPage: Page
let account: Address
let ssoGuardian: Address
const opened: Device[] = []

/** Gives every page of `context` `window.ethereum`: an EIP-1193 wallet whose key is {@link eoaKey}. */
async function injectWallet(context: BrowserContext, stack: StackInfo) {
  await context.exposeFunction('__ssoTestWallet', async (method: string, params: unknown[]) => {
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [eoa.address]
    if (method === 'eth_chainId') return toHex(stack.chainId)
    if (method === 'eth_signTypedData_v4') {
      const [from, json] = params as [string, string]
      if (getAddress(from) !== eoa.address) throw new Error(`The wallet does not hold ${from}.`)
      const data = JSON.parse(json) as {
        domain: TypedDataDomain
        types: Record<string, { name: string; type: string }[]>
        primaryType: string
        message: Record<string, unknown>
      }
      const { EIP712Domain: _, ...types } = data.types
      // JSON carries integers as strings: back to bigints by their declared types.
      const message = Object.fromEntries(
        Object.entries(data.message).map(([key, value]) => {
          const type = types[data.primaryType]?.find((field) => field.name === key)?.type ?? ''
          return [key, /^u?int/.test(type) ? BigInt(value as string) : value]
        }),
      )
      return eoa.signTypedData({
        domain: { ...data.domain, chainId: Number(data.domain.chainId) },
        types,
        primaryType: data.primaryType,
        message,
      } as never)
    }
    throw new Error(`The test wallet does not support ${method}.`)
  })
  await context.addInitScript(() => {
    const call = (window as unknown as { __ssoTestWallet: (m: string, p: unknown[]) => Promise<unknown> })
      .__ssoTestWallet
    ;(window as unknown as { ethereum: unknown }).ethereum = {
      request: ({ method, params }: { method: string; params?: unknown[] }) => call(method, params ?? []),
    }
  })
}

/** Screenshots of `page` at 360 and 440 px (into the test's output), after checking nothing overflows sideways. */
async function shoot(page: Page, name: string) {
  for (const width of [360, 440]) {
    await page.setViewportSize({ width, height: 900 })
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
      `${name} overflows at ${width} px`,
    ).toBe(true)
    await page.screenshot({ path: test.info().outputPath(`${name}-${width}.png`), fullPage: true })
  }
  await page.setViewportSize({ width: 1100, height: 800 })
}

async function state(stack: StackInfo, chain: import('viem').PublicClient) {
  return getRecoveryState({ client: chain, executor: stack.contracts.guardianExecutor as Address, account })
}

/** A fresh device (its own, empty passkey store) that starts recovering `account`; returns it and the link. */
async function startRecovery(
  browser: import('@playwright/test').Browser,
  stack: StackInfo,
  options: { removeLost?: boolean; screens?: boolean } = {},
) {
  const device = await newDevice(browser, new PasskeyStore())
  opened.push(device)
  const page = await device.context.newPage()
  await page.goto(`${stack.authServerUrl}/recover`)
  if (options.screens) {
    // A wrong address and an account without guardians are refused before any passkey is made.
    await page.getByTestId('recover-address').fill('0xnot-an-address')
    await page.getByTestId('recover-continue').click()
    await expect(page.getByTestId('recover-error')).toHaveText(
      'That is not an account address: enter 0x followed by 40 hex digits. Nothing was sent.',
    )
    await page.getByTestId('recover-address').fill(ssoGuardian)
    await page.getByTestId('recover-continue').click()
    await expect(page.getByTestId('recover-error')).toContainText('This account has no guardian who accepted')
    await shoot(page, 'recover-address')
  }
  await page.getByTestId('recover-address').fill(account)
  await page.getByTestId('recover-continue').click()
  await expect(page.getByTestId('recover-target')).toHaveText(account)
  if (options.screens) await shoot(page, 'recover-passkey')
  if (!options.removeLost) await page.getByTestId('recover-remove-lost').uncheck()
  await page.getByTestId('recover-create').click()
  const link = (await page.getByTestId('recover-link').textContent()) ?? ''
  expect(link).toContain('/guardian?account=')
  return { device, page, link }
}

/** The two guardians approve the recovery of `link`: the SSO account with its passkey, the EOA with its wallet. */
async function bothApprove(link: string) {
  await guardianPage.goto(link)
  await guardianPage.getByTestId('guardian-act').click()
  await expect(guardianPage.getByTestId('guardian-done')).toHaveText('You approved the recovery.')
  await walletPage.goto(link)
  await walletPage.getByTestId('wallet-sign').click()
  await expect(walletPage.getByTestId('guardian-done')).toHaveText(`${eoa.address} approved the recovery.`)
}

/** Why finalizing `proposal` now reverts (the executor's error name), simulated from a bystander. */
async function finalizeRevert(
  stack: StackInfo,
  chain: import('viem').PublicClient,
  proposal: RecoveryProposal,
) {
  const error = await chain
    .simulateContract({
      account: privateKeyToAccount(generatePrivateKey()).address,
      address: stack.contracts.guardianExecutor as Address,
      abi: guardianExecutorAbi,
      functionName: 'finalizeRecovery',
      args: [account, { ...proposal, removedCredentialIds: [...proposal.removedCredentialIds] }],
    })
    .then(
      () => undefined,
      (e: unknown) => e as { cause?: { data?: { errorName?: string } } },
    )
  return error?.cause?.data?.errorName
}

async function pendingProposal(
  stack: StackInfo,
  chain: import('viem').PublicClient,
): Promise<RecoveryProposal> {
  const { pending } = await state(stack, chain)
  const [log] = await chain.getContractEvents({
    address: stack.contracts.guardianExecutor as Address,
    abi: guardianExecutorAbi,
    eventName: 'RecoveryStarted',
    args: { account, recoveryId: pending.id },
    fromBlock: 0n,
  })
  expect(log?.args.proposal?.credentialId).toMatch(/^0x[0-9a-f]+$/)
  return log!.args.proposal as RecoveryProposal
}

test.beforeAll(async ({ browser, stack }) => {
  await resetClock(stack)
  owner = await newDevice(browser, new PasskeyStore())
  guardian = await newDevice(browser, new PasskeyStore())
  const walletContext = await browser.newContext()
  await injectWallet(walletContext, stack)
  wallet = await setupDevice(walletContext, new PasskeyStore())
  ownerPage = await owner.context.newPage()
  guardianPage = await guardian.context.newPage()
  walletPage = await walletContext.newPage()
})

test.afterAll(async ({ stack }) => {
  for (const device of [owner, guardian, wallet, ...opened]) await device?.context.close()
  await resetClock(stack)
})

test('set up: the owner proposes an SSO account and an EOA as guardians; bad input changes nothing', async ({
  stack,
  chain,
}) => {
  await guardianPage.goto(`${stack.authServerUrl}/dashboard`)
  await guardianPage.getByTestId('signup').click()
  ssoGuardian = getAddress(await readHex(guardianPage.getByTestId('account-address'), addressPattern))
  await ownerPage.goto(`${stack.authServerUrl}/dashboard`)
  await ownerPage.getByTestId('signup').click()
  account = getAddress(await readHex(ownerPage.getByTestId('account-address'), addressPattern))
  await expect(ownerPage.getByTestId('guardians-empty')).toBeVisible()
  await expect(ownerPage.getByTestId('recovery-delay')).toHaveText('1 day')

  await ownerPage.getByTestId('guardian-input').fill('0x1234')
  await ownerPage.getByTestId('guardian-add').click()
  await expect(ownerPage.getByTestId('recovery-error')).toHaveText(
    'That is not an address of a guardian: enter 0x followed by 40 hex digits. Nothing was sent.',
  )
  await ownerPage.getByTestId('guardian-input').fill(account)
  await ownerPage.getByTestId('guardian-add').click()
  await expect(ownerPage.getByTestId('recovery-error')).toHaveText(
    'The account can’t be its own guardian. Nothing was sent.',
  )
  await ownerPage.getByTestId('threshold-input').fill('1')
  await ownerPage.getByTestId('threshold-save').click()
  await expect(ownerPage.getByTestId('recovery-error')).toContainText('No guardian has accepted yet')
  expect((await state(stack, chain)).guardians).toHaveLength(0)

  // A guardian proposed by mistake is removed again (one passkey approval each).
  const mistaken = privateKeyToAccount(generatePrivateKey()).address
  await ownerPage.getByTestId('guardian-input').fill(mistaken)
  await ownerPage.getByTestId('guardian-add').click()
  await expect(ownerPage.getByTestId('guardian-address')).toHaveText([mistaken])
  await ownerPage.getByTestId('guardian-remove').click()
  await expect(ownerPage.getByTestId('recovery-done')).toHaveText('Guardian removed.')
  await expect(ownerPage.getByTestId('guardians-empty')).toBeVisible()
  expect((await state(stack, chain)).guardians).toHaveLength(0)

  for (const address of [ssoGuardian, eoa.address]) {
    await ownerPage.getByTestId('guardian-input').fill(address)
    await ownerPage.getByTestId('guardian-add').click()
    await expect(ownerPage.getByTestId('recovery-done')).toContainText('Guardian added')
  }
  await expect(ownerPage.getByTestId('guardian')).toHaveCount(2)
  await expect(ownerPage.getByTestId('guardian-status')).toHaveText([
    'Proposed: waiting for acceptance',
    'Proposed: waiting for acceptance',
  ])
  await ownerPage.getByTestId('guardian-input').fill(eoa.address.toLowerCase())
  await ownerPage.getByTestId('guardian-add').click()
  await expect(ownerPage.getByTestId('recovery-error')).toContainText('is already a guardian')
  const onChain = await state(stack, chain)
  expect(onChain.guardians).toEqual([
    { address: ssoGuardian, status: 'proposed' },
    { address: eoa.address, status: 'proposed' },
  ])
  await shoot(ownerPage, 'recovery-panel')
})

test('the guardians accept through the link: the SSO account with its passkey, the EOA with its wallet', async ({
  stack,
  chain,
}) => {
  const link = (await ownerPage.getByTestId('guardian-link').textContent()) ?? ''
  expect(link).toBe(`${stack.authServerUrl}/guardian?account=${account}`)

  await guardianPage.goto(link)
  await expect(guardianPage.getByTestId('guardian-me')).toHaveText(ssoGuardian)
  await shoot(guardianPage, 'guardian-accept')
  await guardianPage.getByTestId('guardian-act').click()
  await expect(guardianPage.getByTestId('guardian-done')).toHaveText(
    'You are now a guardian of this account.',
  )
  // Accepting twice is refused before anything is sent.
  await guardianPage.getByTestId('guardian-act').click()
  await expect(guardianPage.getByTestId('guardian-error')).toContainText('has already accepted')

  await walletPage.goto(link)
  // A pasted signature by another key is refused, nothing is sent.
  await walletPage.getByTestId('sign-elsewhere').locator('summary').click()
  await walletPage.getByTestId('eoa-address').fill(eoa.address)
  await walletPage.getByTestId('eoa-show').click()
  await expect(walletPage.getByTestId('eoa-typed-data')).toContainText('"primaryType": "AcceptGuardian"')
  const stranger = privateKeyToAccount(generatePrivateKey())
  const forged = await stranger.signTypedData({
    domain: {
      name: 'GuardianExecutor',
      version: '1',
      chainId: stack.chainId,
      verifyingContract: stack.contracts.guardianExecutor as Address,
    },
    types: {
      AcceptGuardian: [
        { name: 'account', type: 'address' },
        { name: 'guardian', type: 'address' },
        { name: 'proposal', type: 'uint256' },
      ],
    },
    primaryType: 'AcceptGuardian',
    message: { account, guardian: eoa.address, proposal: 2n },
  })
  await walletPage.getByTestId('eoa-signature').fill(forged)
  await walletPage.getByTestId('eoa-submit').click()
  await expect(walletPage.getByTestId('wallet-error')).toContainText(`is not ${eoa.address}’s signature`)
  await shoot(walletPage, 'guardian-sign-elsewhere')
  expect((await state(stack, chain)).guardians[1]?.status).toBe('proposed')

  await walletPage.getByTestId('wallet-sign').click()
  await expect(walletPage.getByTestId('guardian-done')).toHaveText(
    `${eoa.address} is now a guardian of this account.`,
  )
  await expect(ownerPage.getByTestId('guardian-status')).toHaveText(['Accepted', 'Accepted'])
  await expect(ownerPage.getByTestId('recovery-threshold')).toHaveText('1 of 2 accepted guardians')
})

test('the owner sets 2 of 2; a threshold or delay out of range changes nothing', async ({ stack, chain }) => {
  await ownerPage.getByTestId('threshold-input').fill('3')
  await ownerPage.getByTestId('threshold-save').click()
  await expect(ownerPage.getByTestId('recovery-error')).toHaveText(
    'The threshold must be a whole number from 1 to 2 (the accepted guardians). Nothing was sent.',
  )
  await ownerPage.getByTestId('delay-input').fill('0.5')
  await ownerPage.getByTestId('delay-save').click()
  await expect(ownerPage.getByTestId('recovery-error')).toHaveText(
    'The delay must be between 1 and 720 hours. Nothing was sent.',
  )
  expect((await state(stack, chain)).threshold).toBe(1n)

  await ownerPage.getByTestId('threshold-input').fill('2')
  await ownerPage.getByTestId('threshold-save').click()
  await expect(ownerPage.getByTestId('recovery-threshold')).toHaveText('2 of 2 accepted guardians')
  const onChain = await state(stack, chain)
  expect(onChain.threshold).toBe(2n)
  expect(onChain.delay).toBe(BigInt(day))
})

let recovering: { device: Device; page: Page; link: string }

test('recover on a new device: one guardian alone under 2 of 2 cannot finalize', async ({
  browser,
  stack,
  chain,
}) => {
  recovering = await startRecovery(browser, stack, { screens: true })
  const { page, link } = recovering
  await expect(page.getByTestId('recover-status')).toHaveText(
    'Waiting for a first guardian to approve (2 needed).',
  )
  await shoot(page, 'recover-waiting')

  await guardianPage.goto(link)
  await expect(guardianPage.getByTestId('proposal-status')).toContainText('not started yet')
  await shoot(guardianPage, 'guardian-approve')
  await guardianPage.getByTestId('guardian-act').click()
  await expect(guardianPage.getByTestId('guardian-done')).toHaveText('You approved the recovery.')
  await expect(page.getByTestId('recover-status')).toHaveText('1 of 2 guardians approved.')
  await expect(page.getByTestId('recover-finalize')).toHaveCount(0)
  expect((await state(stack, chain)).pending.status).toBe('approving')
  expect(await finalizeRevert(stack, chain, await pendingProposal(stack, chain))).toBe('RecoveryNotScheduled')
  // The owner is warned.
  await expect(ownerPage.getByTestId('recovery-banner-when')).toContainText('1 of 2 approved')
  await expect(ownerPage.getByTestId('recovery-banner-starter')).toHaveText(ssoGuardian)
})

test('the EOA approves with its wallet: the delay runs, the owner sees when it becomes final', async ({
  stack,
  chain,
}) => {
  const { page, link } = recovering
  await walletPage.goto(link)
  await walletPage.getByTestId('wallet-sign').click()
  await expect(walletPage.getByTestId('guardian-done')).toHaveText(`${eoa.address} approved the recovery.`)
  await expect(page.getByTestId('recover-countdown')).toHaveText(/^(23 hours 5\d minutes|1 day) left$/)
  await shoot(page, 'recover-countdown')
  const { pending } = await state(stack, chain)
  expect(pending.status).toBe('delayed')
  expect(await finalizeRevert(stack, chain, await pendingProposal(stack, chain))).toBe('RecoveryNotReady')
  await expect(ownerPage.getByTestId('recovery-banner-when')).toContainText('It becomes final on')
  await shoot(ownerPage, 'recovery-banner')

  // The popup warns before the owner approves anything.
  const dapp = await owner.context.newPage()
  await openDemo(dapp, stack)
  const connect = await clickForPopup(owner, dapp, 'connect')
  await connect.getByTestId('approve').click()
  await expectClosed(connect)
  const sign = await clickForPopup(owner, dapp, 'sign-message')
  await expect(sign.getByTestId('recovery-banner-when')).toContainText('It becomes final on')
  await expect(sign.getByTestId('recovery-cancel')).toHaveCount(0)
  await shoot(sign, 'popup-recovery-warning')
  await sign.getByTestId('reject').click()
  await expectClosed(sign)
  await dapp.close()
})

test('after the delay the new device finalizes; its new passkey logs in and sends a transaction', async ({
  stack,
  chain,
  anvil,
}) => {
  const { page, device } = recovering
  await travel(day + 60, stack)
  await expect(page.getByTestId('recover-finalize')).toBeVisible()
  await shoot(page, 'recover-ready')
  await page.getByTestId('recover-finalize').click()
  await expect(page).toHaveURL(/\/dashboard$/)
  await expect(page.getByTestId('account-address')).toHaveText(account)
  expect((await state(stack, chain)).pending.status).toBe('none')

  // The new passkey (the only one of this device) finds the account at log-in.
  await page.getByTestId('logout').click()
  await page.getByTestId('login').click()
  await expect(page.getByTestId('account-address')).toHaveText(account)

  // And it works in a dapp like any other.
  await anvil.setBalance({ address: account, value: parseEther('1') })
  const to = privateKeyToAccount(generatePrivateKey()).address
  await openDemo(page, stack)
  const connect = await clickForPopup(device, page, 'connect')
  await expect(connect.getByTestId('account-address')).toHaveText(account)
  await connect.getByTestId('approve').click()
  await expectClosed(connect)
  await fillSend(page, to, '0.01')
  const send = await clickForPopup(device, page, 'send-eth')
  await send.getByTestId('approve').click()
  await expectClosed(send)
  const hash = await readHex(page.getByTestId('tx-hash'), hashPattern)
  expect((await chain.getTransactionReceipt({ hash })).status).toBe('success')
  expect(await chain.getBalance({ address: to })).toBe(parseEther('0.01'))
})

test('the owner cancels a pending recovery with one passkey approval', async ({ browser, stack, chain }) => {
  const { page, link } = await startRecovery(browser, stack)
  await bothApprove(link)
  await ownerPage.reload()
  await expect(ownerPage.getByTestId('recovery-banner-when')).toContainText('It becomes final on')
  await ownerPage.getByTestId('recovery-cancel').click()
  await expect(ownerPage.getByTestId('recovery-cancelled')).toHaveText('The recovery was cancelled.')
  await expect(ownerPage.getByTestId('recovery-banner')).toHaveCount(0)
  expect((await state(stack, chain)).pending.status).toBe('none')
  await expect(page.getByTestId('recover-status')).toHaveText(
    'Waiting for a first guardian to approve (2 needed).',
  )
})

test('an expired recovery cannot be finalized', async ({ browser, stack, chain }) => {
  const { page, link } = await startRecovery(browser, stack, { removeLost: true })
  await bothApprove(link)
  const proposal = await pendingProposal(stack, chain)
  expect(proposal.removedCredentialIds.length).toBeGreaterThan(0)
  await travel(day + 7 * day + 60, stack)
  await expect(page.getByTestId('recover-status')).toContainText('This recovery expired')
  await expect(page.getByTestId('recover-finalize')).toHaveCount(0)
  await shoot(page, 'recover-expired')
  expect((await state(stack, chain)).pending.status).toBe('expired')
  expect(await finalizeRevert(stack, chain, proposal)).toBe('RecoveryWindowClosed')
})
