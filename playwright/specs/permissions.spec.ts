import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { type Address, createWalletClient, erc20Abi, type Hex, http, parseEther, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import { expectClosed, expectRequest, hashPattern, openDemo, readHex, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { resetClock, stackChain } from '../fixtures/stack.js'
import { expect, test } from '../fixtures/test.js'

// This file's own synced passkeys: each spec file is a user of its own.
const syncedPasskeys = new PasskeyStore()

/**
 * ERC-7715 through the real stack: the demo asks `wallet_requestExecutionPermissions` for an erc20-token-periodic
 * permission paid to one shop; the popup shows it on its session screen and the passkey creates the session; the
 * demo then pays the shop with no popup, and a payment past the period's amount falls back to the popup.
 */
test.describe.configure({ mode: 'serial' })

const shop: Address = '0x000000000000000000000000000000000000c0DE'
// anvil's account #7 (0-2 are the deployer and Alto's keys; other specs use #5 and #6)
const deployerKey: Hex = '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356'
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

let device: Device
let page: Page
let account: Address
let token: Address
let popups = 0

test.beforeAll(async ({ browser, stack, chain }) => {
  device = await newDevice(browser, syncedPasskeys)
  device.context.on('page', () => {
    popups++
  })
  page = await device.context.newPage()
  await resetClock(stack)
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
  token = (await chain.waitForTransactionReceipt({ hash })).contractAddress as Address
  expect(token).toMatch(/^0x[0-9a-fA-F]{40}$/)
})

test.afterAll(async () => {
  await device?.context.close()
})

const balance = (chain: import('viem').PublicClient, owner: Address) =>
  chain.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] })

test('behavior: an ERC-7715 erc20-token-periodic permission is approved on the session screen, then pays with no popup', async ({
  stack,
  chain,
  anvil,
}) => {
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

  // Don't start just before an hour boundary: the payments below count within one hourly period.
  const toBoundary = 3600 - ((Date.now() / 1000) % 3600)
  if (toBoundary < 90) await new Promise((r) => setTimeout(r, (toBoundary + 1) * 1000))

  await page.getByTestId('session-token').fill(token)
  const popup = await clickForPopup(device, page, 'session-request-7715')
  // The popup gets the session the permission became: the screen every session request uses.
  await expectRequest(popup, stack, 'wallet_grantPermissions')
  const summary = popup.getByTestId('session-summary')
  await expect(summary).toContainText('transfer(address,uint256)')
  await expect(summary).toContainText(new RegExp(shop.slice(2), 'i'))
  await expect(summary).toContainText(/10 MCK per hour/)
  await expect(popup.getByTestId('session-fee')).toContainText('0.01 ETH')
  await popup.getByTestId('approve').click()
  await expectClosed(popup, 60_000)

  const sessionId = await readHex(page.getByTestId('session-id'), hashPattern)
  const status = await chain.readContract({
    address: stack.contracts.sessionKeyValidator!,
    abi: sessionKeyValidatorAbi,
    functionName: 'sessionStatus',
    args: [account, sessionId],
  })
  expect(status).toBe(1) // Active

  // Within the permission: no popup.
  const before = popups
  await page.getByTestId('session-pay-amount').fill('6')
  await page.getByTestId('session-pay-token').click()
  await expect(page.getByTestId('session-busy')).toHaveText('', { timeout: 30_000 })
  await expect(page.getByTestId('session-error')).toHaveText('')
  const hash = await readHex(page.getByTestId('session-result'), hashPattern)
  expect((await chain.getTransactionReceipt({ hash })).status).toBe('success')
  expect(popups).toBe(before)
  expect(await balance(chain, shop)).toBe(parseUnits('6', 18))
  await page.getByTestId('session-read-state').click()
  await expect(page.getByTestId('session-state')).toContainText('active; token left this period: 4 MCK;')

  // Past the period's amount: the session can't, so the popup asks for the passkey; the user rejects.
  await page.getByTestId('session-pay-amount').fill('5')
  const fallback = await clickForPopup(device, page, 'session-pay-token')
  await expectRequest(fallback, stack, 'eth_sendTransaction')
  await fallback.getByTestId('reject').click()
  await expect(page.getByTestId('session-error')).toContainText('4001')
  expect(await balance(chain, shop)).toBe(parseUnits('6', 18))
})

test('behavior: a batch of calls all within the permission is sent by the session with no popup; one call outside falls back to the popup', async ({
  stack,
  chain,
}) => {
  // 4 MCK left this period: two payments of 1.5 to the shop in one wallet_sendCalls.
  const before = popups
  await page.getByTestId('session-pay-amount').fill('1.5')
  await page.getByTestId('session-batch-to').fill(shop)
  await page.getByTestId('session-pay-batch').click()
  await expect(page.getByTestId('session-busy')).toHaveText('', { timeout: 30_000 })
  await expect(page.getByTestId('session-error')).toHaveText('')
  const id = await readHex(page.getByTestId('session-result'), hashPattern)
  expect(popups).toBe(before)
  await expect.poll(() => balance(chain, shop), { timeout: 20_000 }).toBe(parseUnits('9', 18))
  // Both payments ran in one userOp, validated by the session key's validator.
  const response = await fetch(stack.bundlerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getUserOperationReceipt', params: [id] }),
  })
  const { result } = (await response.json()) as { result: { success: boolean; nonce: Hex } }
  expect(result.success).toBe(true)
  expect(BigInt(result.nonce) >> 96n).toBe(BigInt(stack.contracts.sessionKeyValidator!))

  // The second payment to someone the permission does not name: the whole batch goes to the popup.
  await page.getByTestId('session-pay-amount').fill('0.5')
  await page.getByTestId('session-batch-to').fill('0x000000000000000000000000000000000000F00D')
  const popup = await clickForPopup(device, page, 'session-pay-batch')
  await expectRequest(popup, stack, 'wallet_sendCalls')
  await expect(popup.getByTestId('tx-call')).toHaveCount(2)
  await popup.getByTestId('reject').click()
  await expect(page.getByTestId('session-error')).toContainText('4001')
  expect(await balance(chain, shop)).toBe(parseUnits('9', 18))
})
