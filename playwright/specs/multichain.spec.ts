import type { Page } from '@playwright/test'
import { type Address, type Hex, type PublicClient, parseEther } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import {
  expectClosed,
  expectRequest,
  fillSend,
  hashPattern,
  openDemo,
  readHex,
  signUp,
} from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { publicClient, type StackChain, testClient } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Multi-chain (docs/architecture.md, sections 2 and 4): the same account address on every chain, the demo switching chains without
 * a popup, the first transaction on the second chain deploying the account there, and signatures bound to the
 * chain they were made for.
 */
test.describe.configure({ mode: 'serial' })

let device: Device
let page: Page
let account: Address
let second: StackChain
let chain2: PublicClient

test.beforeAll(async ({ browser, stack }) => {
  const found = stack.chains.find((chain) => chain.id !== stack.chainId)
  if (!found) throw new Error('the stack has no second chain (startStack({ secondChain: true }))')
  second = found
  chain2 = publicClient(stack, second)
  // This user's own passkeys: other specs count the worker's synced store.
  device = await newDevice(browser, new PasskeyStore())
  page = await device.context.newPage()
})

test.afterAll(async () => {
  await device?.context.close()
})

async function shownChainId(page: Page): Promise<number> {
  const text = await page.getByTestId('chain-id').textContent()
  return Number(text?.match(/\d+/)?.[0])
}

test('behavior: switching the demo to the second chain needs no popup and keeps the address', async ({
  stack,
  chain,
}) => {
  await openDemo(page, stack)
  account = (await signUp(device, page, stack)).address
  expect((await chain.getCode({ address: account }))?.length ?? 0).toBeGreaterThan(2)
  // Counterfactual on the second chain: same address, no code yet.
  expect(await chain2.getCode({ address: account })).toBeUndefined()

  const pages = device.context.pages().length
  await page.getByTestId('switch-chain').click()
  await expect.poll(() => shownChainId(page)).toBe(second.id)
  expect(device.context.pages()).toHaveLength(pages)
  await expect(page.getByTestId('address')).toContainText(account)
  // The block number shown is the second chain's, not the first's. Both chains also make a block every second, so
  // the second one is put 1,000 blocks beyond the first (at the same time: interval 0), and the number shown must
  // be the second chain's at the moment it is read.
  const first = await chain.getBlockNumber()
  const gap = first - (await chain2.getBlockNumber())
  await testClient(stack, second).mine({ blocks: Number(gap > 0n ? gap : 0n) + 1000, interval: 0 })
  const target = await chain2.getBlockNumber()
  const shownBlock = async () =>
    BigInt((await page.getByTestId('block-number').textContent())?.match(/\d+/)?.[0] ?? '0')
  await expect.poll(shownBlock).toBeGreaterThanOrEqual(target)
  const shown = await shownBlock()
  expect(shown).toBeLessThanOrEqual(await chain2.getBlockNumber())
  expect(shown - (await chain.getBlockNumber())).toBeGreaterThan(900n)
})

test('behavior: the first send on the second chain deploys the account there, at the same address', async ({
  stack,
  chain,
}) => {
  await testClient(stack, second).setBalance({ address: account, value: parseEther('1') })
  const to = privateKeyToAccount(generatePrivateKey()).address
  await fillSend(page, to, '0.02')
  const popup = await clickForPopup(device, page, 'send-eth')
  await expectRequest(popup, stack, 'eth_sendTransaction')
  await expect(popup.getByTestId('request-chain')).toContainText(String(second.id))
  await popup.getByTestId('approve').click()
  await expectClosed(popup)

  const hash = await readHex(page.getByTestId('tx-hash'), hashPattern)
  expect((await chain2.getTransactionReceipt({ hash })).status).toBe('success')
  expect(await chain2.getBalance({ address: to })).toBe(parseEther('0.02'))
  expect((await chain2.getCode({ address: account }))?.length ?? 0).toBeGreaterThan(2)
  // Nothing happened on the first chain.
  expect(await chain.getBalance({ address: to })).toBe(0n)
})

test('behavior: a message signed on the second chain verifies there and not on the first', async ({
  stack,
  chain,
}) => {
  const popup = await clickForPopup(device, page, 'sign-message')
  await expectRequest(popup, stack, 'personal_sign')
  await expect(popup.getByTestId('request-chain')).toContainText(String(second.id))
  await popup.getByTestId('approve').click()
  await expectClosed(popup)
  const signature = await readHex(page.getByTestId('signature'), /0x[0-9a-fA-F]{130,}/)
  await expect(page.getByTestId('verify-result')).toContainText(/true/i)

  const request = device.messages
    .requestsAt(new URL(stack.authServerUrl).origin)
    .filter((m) => m.data.method === 'personal_sign')
    .at(-1)!.data as unknown as { params: [Hex, Address]; chainId: number }
  expect(request.chainId).toBe(second.id)
  const message = { raw: request.params[0] }
  expect(await chain2.verifyMessage({ address: account, message, signature })).toBe(true)
  // ERC-7739 binds the signature to the chain: replaying it on the first chain fails.
  expect(await chain.verifyMessage({ address: account, message, signature })).toBe(false)
})

test('behavior: switching back shows the first chain again', async ({ stack }) => {
  await page.getByTestId('switch-chain').click()
  await expect.poll(() => shownChainId(page)).toBe(stack.chainId)
  await expect(page.getByTestId('address')).toContainText(account)
})

test('behavior: no uncaught exception in the demo or the popups', async () => {
  expect(device.pageErrors).toEqual([])
})
