import type { Page } from '@playwright/test'
import { toSsoAccount } from '@sso/client/account'
import {
  sessionKeyValidatorAbi as clientSessionAbi,
  createMemoryKeyStore,
  createSecp256k1SessionSigner,
  encodeSessionSpec,
  lifetime,
  type SessionSpec,
  toSessionAccount,
  transferPolicy,
} from '@sso/client/session'
import { createTestPasskey } from '@sso/client/testing'
import { sessionKeyValidatorAbi, ssoAccountAbi } from '@sso/contracts-abi'
import {
  type Address,
  decodeErrorResult,
  encodeFunctionData,
  type Hex,
  http,
  parseEther,
  toFunctionSelector,
} from 'viem'
import { createBundlerClient, UserOperationExecutionError } from 'viem/account-abstraction'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import { expectClosed, expectRequest, grantInRawPopup, openDemo, signUp } from '../fixtures/flows.js'
import { PasskeyStore } from '../fixtures/passkeys.js'
import { expect, test } from '../fixtures/test.js'

// This file's own synced passkeys: each spec file is a user of its own.
const syncedPasskeys = new PasskeyStore()

/**
 * Issue "modules people can manage": the demo installs the example AllowanceExecutor through the popup, the
 * dashboard lists it, the dapp pulls within the allowance and is refused over it, the dashboard uninstalls it and
 * the chain agrees; the last validator that can sign is refused without anything being sent; a session can't
 * install a module. Real popup, passkeys, chain and bundler. Steps run in order.
 */
test.describe.configure({ mode: 'serial' })

let device: Device
let page: Page
let account: Address

test.beforeAll(async ({ browser }) => {
  device = await newDevice(browser, syncedPasskeys)
  page = await device.context.newPage()
})

test.afterAll(async () => {
  await device?.context.close()
})

/** Sends `method` through the demo's provider (found by EIP-6963) and returns its result or its error. */
function requestInPage(target: Page, method: string, params?: unknown[]) {
  return target.evaluate(
    async ({ method, params }) => {
      const provider = await new Promise<{ request(args: unknown): Promise<unknown> }>((resolve) => {
        window.addEventListener(
          'eip6963:announceProvider',
          (event) => resolve((event as CustomEvent).detail.provider),
          { once: true },
        )
        window.dispatchEvent(new Event('eip6963:requestProvider'))
      })
      try {
        return { result: await provider.request({ method, params }) }
      } catch (e) {
        const { name, code, shortMessage, data } = e as Record<string, unknown>
        return { error: { name, code, shortMessage, data } }
      }
    },
    { method, params },
  )
}

/** `requestInPage` for a method that opens the popup: returns the pending answer and the popup. */
async function requestWithPopup(method: string, params: unknown[]) {
  const opened = page.waitForEvent('popup', { timeout: 15_000 })
  const answer = requestInPage(page, method, params)
  const popup = await opened
  await device.passkeys.ready(popup)
  await popup.waitForLoadState('domcontentloaded')
  return { answer, popup }
}

async function screenshots(target: Page, name: string, testId: string) {
  for (const width of [360, 440]) {
    await target.setViewportSize({ width, height: 900 })
    await target.getByTestId(testId).scrollIntoViewIfNeeded()
    await target.screenshot({ path: test.info().outputPath(`${name}-${width}.png`), fullPage: true })
  }
}

function installed(chain: import('viem').PublicClient, type: bigint, module: Address) {
  return chain.readContract({
    address: account,
    abi: ssoAccountAbi,
    functionName: 'isModuleInstalled',
    args: [type, module, '0x'],
  })
}

test('behavior: the demo installs the AllowanceExecutor with an allowance, approved in the popup', async ({
  stack,
  chain,
  anvil,
}) => {
  await openDemo(page, stack)
  account = (await signUp(device, page, stack)).address
  await anvil.setBalance({ address: account, value: parseEther('1') })
  const executor = stack.contracts.allowanceExecutor!
  expect(await installed(chain, 2n, executor)).toBe(false)

  await page.getByTestId('allowance-amount').fill('0.01')
  const popup = await clickForPopup(device, page, 'allowance-install')
  await expectRequest(popup, stack, 'wallet_installModule')
  await expect(popup.getByTestId('module-title')).toHaveText('Install a module')
  await expect(popup.getByTestId('module-name')).toHaveText('Allowances (AllowanceExecutor)')
  await expect(popup.getByTestId('module-address')).toHaveText(executor)
  await expect(popup.getByTestId('module-type')).toHaveText('Executor')
  await expect(popup.getByTestId('module-warning')).toHaveCount(0)
  // No registry is configured on the devnet: nothing is said about one.
  await expect(popup.getByTestId('module-attestation')).toHaveCount(0)
  await screenshots(popup, 'module-install-ours', 'module-title')
  await popup.getByTestId('approve').click()
  await expectClosed(popup)

  await expect(page.getByTestId('allowance-result')).toContainText(
    'Installed with an allowance of 0.01 ETH per day',
  )
  await expect(page.getByTestId('allowance-installed')).toHaveText('yes')
  await expect(page.getByTestId('allowance-state')).toContainText('0.01 of 0.01 ETH left today')
  expect(await installed(chain, 2n, executor)).toBe(true)
})

test('behavior: the dashboard lists every module by type, with our names, and keeps the passkeys validator', async ({
  stack,
}) => {
  const dashboard = await device.context.newPage()
  await dashboard.goto(`${stack.authServerUrl}/dashboard`)
  const panel = dashboard.getByTestId('modules-panel')
  const row = (address: Address) => panel.locator(`[data-testid="module"][data-address="${address}"]`)
  await expect(row(stack.contracts.allowanceExecutor!).getByTestId('module-name')).toHaveText('Allowances')
  await expect(row(stack.contracts.guardianExecutor!).getByTestId('module-name')).toHaveText(
    'Guardian recovery',
  )
  await expect(row(stack.contracts.sessionKeyValidator!).getByTestId('module-name')).toHaveText('Sessions')
  const passkeys = row(stack.contracts.webAuthnValidator!)
  await expect(passkeys.getByTestId('module-name')).toHaveText('Passkeys')
  await expect(passkeys.getByTestId('module-locked')).toHaveText(
    'Can’t be uninstalled: the last validator that can sign of your account.',
  )
  await expect(passkeys.getByTestId('module-uninstall')).toHaveCount(0)
  await expect(panel.getByTestId('modules-validator').getByTestId('module')).toHaveCount(2)
  await expect(panel.getByTestId('modules-executor').getByTestId('module')).toHaveCount(2)
  await screenshots(dashboard, 'modules-panel', 'modules-panel')
  await dashboard.close()
})

test('behavior: the dapp pulls within the allowance; over it, a readable refusal and nothing moves', async ({
  chain,
}) => {
  const spender = (await page.getByTestId('allowance-spender').textContent()) as Address
  const before = await chain.getBalance({ address: account })
  await page.getByTestId('allowance-pull-amount').fill('0.004')
  await page.getByTestId('allowance-pull').click()
  await expect(page.getByTestId('allowance-result')).toContainText('Pulled 0.004 ETH to the dapp (success')
  expect(await chain.getBalance({ address: account })).toBe(before - parseEther('0.004'))
  await expect(page.getByTestId('allowance-state')).toContainText('0.006 of 0.01 ETH left today')
  expect(spender).toMatch(/^0x[0-9a-fA-F]{40}$/)

  await page.getByTestId('allowance-pull-amount').fill('0.007')
  await page.getByTestId('allowance-pull').click()
  await expect(page.getByTestId('allowance-error')).toHaveText(
    'Over the allowance: asked 0.007 ETH, 0.006 ETH left this period.',
  )
  expect(await chain.getBalance({ address: account })).toBe(before - parseEther('0.004'))
})

test('error: a session naming a module the account installed later (the AllowanceExecutor) is refused in the popup, before the passkey', async ({
  stack,
  chain,
}) => {
  const executor = stack.contracts.allowanceExecutor!
  expect(await installed(chain, 2n, executor)).toBe(true)
  const now = Number((await chain.getBlock({ blockTag: 'latest' })).timestamp)
  // A call policy on the executor: not in the list of modules every account is created with, so only the account's
  // own records (read on chain by the popup) say it is a module.
  const spec = {
    signer: `0x${'11'.repeat(20)}`,
    expiresAt: now + 3600,
    feeLimit: { type: 'lifetime', limit: '0x1' },
    callPolicies: [
      {
        target: executor,
        selector: '0x12345678',
        maxValuePerUse: '0x0',
        valueLimit: { type: 'unlimited' },
        constraints: [],
      },
    ],
    transferPolicies: [],
  }
  const nonce = await chain.getTransactionCount({ address: account })
  // A hand-written dapp on the demo's origin: the spec goes to the popup without the client's checks.
  const { popup, answer } = await grantInRawPopup(page, stack, spec, 'raw-module')
  const message = `${executor} is installed on your account as an executor: a session never calls the account's modules.`
  await expect(popup.getByTestId('session-invalid')).toContainText('banned-target at callPolicies[0].target')
  await expect(popup.getByTestId('session-invalid')).toContainText(message)
  // Refused, said once: no Approve, and the verdict box adds only the code and the way out.
  await expect(popup.getByTestId('approve')).toHaveCount(0)
  await expect(popup.getByTestId('request-error')).toContainText('Refused (-32602)')
  await expect(popup.getByTestId('request-error-message')).toHaveCount(0)
  await screenshots(popup, 'session-module-target', 'session-invalid')
  await popup.getByTestId('report-error').click()
  const result = (await answer) as { error?: { code: number; message: string; data?: { rule?: string } } }
  expect(result.error?.code).toBe(-32602)
  expect(result.error?.data?.rule).toBe('banned-target')
  expect(result.error?.message).toContain(message)
  expect(await chain.getTransactionCount({ address: account })).toBe(nonce)
  await popup.close() // a hand-written dapp: nobody closes it for us
})

test('behavior: an unknown module gets the full-control warning; rejecting sends nothing', async ({
  stack,
  chain,
}) => {
  const unknown: Address = '0x000000000000000000000000000000000000bEEF'
  const { answer, popup } = await requestWithPopup('wallet_installModule', [
    { type: 'validator', address: unknown },
  ])
  await expectRequest(popup, stack, 'wallet_installModule')
  await expect(popup.getByTestId('module-name')).toHaveText('Unknown')
  await expect(popup.getByTestId('module-warning')).toContainText(
    'An unknown module can take full control of your account: as a validator it decides which signatures may act for your account',
  )
  await expect(popup.getByTestId('module-warning')).toContainText(new URL(stack.demoUrl).origin)
  await screenshots(popup, 'module-install-unknown', 'module-warning')
  await popup.getByTestId('reject').click()
  expect(await answer).toEqual({
    error: { name: 'UserRejectedRequestError', code: 4001, shortMessage: 'The user rejected the request.' },
  })
  expect(await installed(chain, 1n, unknown)).toBe(false)
})

test('error: uninstalling the WebAuthnValidator, the only validator that can sign, is refused and nothing is sent', async ({
  stack,
  chain,
}) => {
  const validator = stack.contracts.webAuthnValidator!
  const nonce = await chain.getTransactionCount({ address: account })
  const { answer, popup } = await requestWithPopup('wallet_uninstallModule', [
    { type: 'validator', address: validator },
  ])
  await expectRequest(popup, stack, 'wallet_uninstallModule')
  await expect(popup.getByTestId('module-name')).toHaveText('Passkeys (WebAuthnValidator)')
  const message = `${validator} is the last validator that can sign for the account (its passkeys): uninstalling it would lock the account, so it can't be uninstalled.`
  await expect(popup.getByTestId('request-error-message')).toHaveText(message)
  await expect(popup.getByTestId('request-error')).toContainText('Refused')
  await expect(popup.getByTestId('approve')).toHaveCount(0)
  await screenshots(popup, 'module-uninstall-refused', 'request-error')
  await popup.getByTestId('report-error').click()
  expect(await answer).toEqual({
    error: {
      name: 'InvalidParamsError',
      code: -32602,
      shortMessage: message,
      data: { reason: 'last-signing-validator' },
    },
  })
  expect(await installed(chain, 1n, validator)).toBe(true)
  expect(await chain.getTransactionCount({ address: account })).toBe(nonce)
})

test('behavior: the dashboard uninstalls the AllowanceExecutor with a passkey; the chain and the demo agree', async ({
  stack,
  chain,
}) => {
  const executor = stack.contracts.allowanceExecutor!
  const dashboard = await device.context.newPage()
  await dashboard.goto(`${stack.authServerUrl}/dashboard`)
  const row = dashboard.locator(`[data-testid="module"][data-address="${executor}"]`)
  await row.getByTestId('module-uninstall').click()
  await expect(dashboard.getByTestId('modules-notice')).toHaveText('Uninstalled Allowances.', {
    timeout: 30_000,
  })
  await expect(row).toHaveCount(0)
  expect(await installed(chain, 2n, executor)).toBe(false)
  await dashboard.close()

  // Uninstalling cleared the allowance: the dapp can't pull any more.
  await page.getByTestId('allowance-pull-amount').fill('0.001')
  await page.getByTestId('allowance-pull').click()
  await expect(page.getByTestId('allowance-error')).toHaveText(
    'No allowance: install the module with an allowance first.',
  )
  await expect(page.getByTestId('allowance-installed')).toHaveText('no')
})

test('error: a session can never install a module: the SessionKeyValidator refuses the userOp', async ({
  stack,
  chain,
  anvil,
}) => {
  const c = stack.contracts
  const passkey = createTestPasskey()
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
  const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
  const now = Number((await chain.getBlock({ blockTag: 'latest' })).timestamp)
  const friend: Address = '0x000000000000000000000000000000000000F00D'
  const spec: SessionSpec = {
    signer: signer.publicKey,
    expiresAt: now + 3600,
    feeLimit: lifetime(parseEther('0.05')),
    callPolicies: [],
    transferPolicies: [
      transferPolicy({
        target: friend,
        maxValuePerUse: parseEther('0.01'),
        valueLimit: lifetime(parseEther('0.01')),
      }),
    ],
  }
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
  })
  expect((await bundler.waitForUserOperationReceipt({ hash: created })).success).toBe(true)
  const session = await toSessionAccount({
    client: chain,
    address: owner.address,
    spec,
    signer,
    validator: c.sessionKeyValidator!,
  })
  const install = encodeFunctionData({
    abi: ssoAccountAbi,
    functionName: 'installModule',
    args: [2n, c.allowanceExecutor!, '0x'],
  })
  const error = await bundler
    .sendUserOperation({ account: session, calls: [{ to: owner.address, data: install }] })
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  expect(error).toBeInstanceOf(UserOperationExecutionError)
  const text = (error as UserOperationExecutionError).message
  expect(text).toMatch(/AA23 reverted/)
  const forbidden = toFunctionSelector('ForbiddenTarget(address)')
  const data = text.match(new RegExp(`${forbidden}[0-9a-fA-F]{64}`))?.[0]
  expect(data, text).toMatch(/^0x[0-9a-fA-F]{72}$/)
  expect(decodeErrorResult({ abi: sessionKeyValidatorAbi, data: data as Hex })).toMatchObject({
    errorName: 'ForbiddenTarget',
    args: [owner.address],
  })
  expect(
    await chain.readContract({
      address: owner.address,
      abi: ssoAccountAbi,
      functionName: 'isModuleInstalled',
      args: [2n, c.allowanceExecutor!, '0x'],
    }),
  ).toBe(false)
})
