import { createPrivateKey, sign as nodeSign } from 'node:crypto'
import type { Browser, Page } from '@playwright/test'
import { encodeWebAuthnSignature, nonceKey, webAuthnValidatorAbi } from '@sso/client/account'
import { bytesToBase64Url } from '@sso/client/webauthn'
import {
  type Address,
  BaseError,
  bytesToHex,
  ContractFunctionRevertedError,
  getAddress,
  type Hex,
  keccak256,
  sha256,
  stringToHex,
} from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'
import { type Device, newDevice } from '../fixtures/device.js'
import { PasskeyStore, type VirtualCredential } from '../fixtures/passkeys.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Passkeys and devices (dashboard): a second passkey on this device, one from another device through the link
 * flow (no backend), rename, remove with confirmation, the last passkey kept, and the backup sign-in page on
 * another origin whose passkeys sign for the same account while each page accepts only its own.
 */
test.describe.configure({ mode: 'serial' })

/** Each device's own passkeys (not synced with each other, nor with the other specs). */
const ownerKeys = new PasskeyStore()
let owner: Device
let ownerPage: Page
let account: Address
/** The owner's first passkey (credential id, base64). */
let firstCredential: VirtualCredential
/** Credential ids (base64) of the passkeys added in this story. */
const added: Record<'here' | 'other' | 'backup', VirtualCredential | undefined> = {
  here: undefined,
  other: undefined,
  backup: undefined,
}
let otherDevice: Device | undefined
let backupDevice: Device | undefined

const shots = (name: string) => test.info().outputPath(`${name}.png`)

/** Screenshots of the page at 360 and 440 px width (the viewport is put back). */
async function screenshots(page: Page, name: string) {
  const size = page.viewportSize()
  for (const width of [360, 440]) {
    await page.setViewportSize({ width, height: 900 })
    await page.screenshot({ path: shots(`${name}-${width}`), fullPage: true })
  }
  if (size) await page.setViewportSize(size)
}

function toBase64Url(base64: string): string {
  return Buffer.from(base64, 'base64').toString('base64url')
}

function passkeyRow(page: Page, credential: VirtualCredential) {
  return page.locator(`[data-testid="passkey"][data-id="${toBase64Url(credential.credentialId)}"]`)
}

/** Opens the dashboard of `origin` and logs in with the device's passkey. */
async function logInOn(device: Device, origin: string): Promise<Page> {
  const page = await device.context.newPage()
  await page.goto(`${origin}/dashboard`)
  await page.getByTestId('login').click()
  await expect(page.getByTestId('account-address')).toHaveText(/0x[0-9a-fA-F]{40}/)
  return page
}

/** A device with only `credentials` (a fresh browser, its own authenticator). */
async function deviceWith(browser: Browser, credentials: VirtualCredential[]): Promise<Device> {
  const store = new PasskeyStore()
  for (const credential of credentials) store.upsert(credential)
  return newDevice(browser, store)
}

/** The credential a store gained since `before` (ids). */
function newest(store: PasskeyStore, before: Set<string>): VirtualCredential {
  const found = store.list().filter((c) => !before.has(c.credentialId))
  expect(found).toHaveLength(1)
  return found[0]!
}

/** The owner makes a link for another page/device (`button`), the other device creates its passkey there. */
async function makeOnOtherDevice(button: string, device: Device, expectedOrigin: string) {
  await ownerPage.getByTestId(button).click()
  const link = await ownerPage.getByTestId('passkey-link').inputValue()
  expect(new URL(link).origin).toBe(expectedOrigin)
  expect(new URL(link).pathname).toBe('/add-device')
  await expect(ownerPage.getByTestId('passkey-add').getByTestId('qr-code').locator('svg')).toBeVisible()
  const page = await device.context.newPage()
  await page.goto(link)
  await expect(page.getByTestId('add-device-account')).toHaveText(account)
  const before = new Set(device.passkeys.store.list().map((c) => c.credentialId))
  await page.getByTestId('add-device-create').click()
  await expect(page.getByTestId('add-device-done')).toBeVisible()
  const code = await page.getByTestId('add-device-code').inputValue()
  const answer = await page.getByTestId('add-device-link').inputValue()
  return { page, link, code, answer, credential: newest(device.passkeys.store, before) }
}

async function approveReview(page: Page, origin: string, pageLabel: string) {
  const review = page.getByTestId('passkey-review')
  await expect(review).toBeVisible()
  await expect(page.getByTestId('passkey-review-origin')).toHaveText(origin)
  await expect(page.getByTestId('passkey-review-page')).toHaveText(pageLabel)
  await page.getByTestId('passkey-approve').click()
  await expect(page.getByTestId('passkeys-notice')).toHaveText(`Passkey added for the ${pageLabel}.`, {
    timeout: 30_000,
  })
}

/** The P-256 key of a CDP credential (its PKCS#8 private key). */
function keyOf(c: VirtualCredential) {
  const privateKey = createPrivateKey({
    key: Buffer.from(c.privateKey, 'base64'),
    format: 'der',
    type: 'pkcs8',
  })
  const jwk = privateKey.export({ format: 'jwk' })
  return {
    privateKey,
    x: bytesToHex(Buffer.from(jwk.x as string, 'base64url')),
    y: bytesToHex(Buffer.from(jwk.y as string, 'base64url')),
  }
}

/** A validator signature by `c` over `hash`, made as a browser on `origin` with `rpId` would make it. */
function signatureAs(c: VirtualCredential, hash: Hex, rpId: string, origin: string): Hex {
  const { privateKey, x, y } = keyOf(c)
  const authenticatorData = `${sha256(stringToHex(rpId))}0500000009` as Hex
  const clientDataJSON = JSON.stringify({
    type: 'webauthn.get',
    challenge: bytesToBase64Url(Buffer.from(hash.slice(2), 'hex')),
    origin,
    crossOrigin: false,
  })
  const message = Buffer.concat([
    Buffer.from(authenticatorData.slice(2), 'hex'),
    Buffer.from(sha256(stringToHex(clientDataJSON)).slice(2), 'hex'),
  ])
  const signature = bytesToHex(nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'der' }))
  return encodeWebAuthnSignature({
    credential: { id: toBase64Url(c.credentialId), publicKey: { x, y } },
    assertion: { authenticatorData, clientDataJSON, signature },
  })
}

test.beforeAll(async ({ browser, stack }) => {
  owner = await newDevice(browser, ownerKeys)
  ownerPage = await owner.context.newPage()
  await ownerPage.goto(`${stack.authServerUrl}/dashboard`)
  await ownerPage.getByTestId('signup').click()
  await expect(ownerPage.getByTestId('account-address')).toHaveText(/0x[0-9a-fA-F]{40}/)
  account = getAddress((await ownerPage.getByTestId('account-address').textContent())!)
  await expect(ownerPage.getByTestId('passkey')).toHaveCount(1, { timeout: 30_000 })
  firstCredential = ownerKeys.list()[0]!
})

test.afterAll(async () => {
  await owner?.context.close()
  await otherDevice?.context.close()
  await backupDevice?.context.close()
})

test('behavior: the panel lists the first passkey as this device’s, with its page and when it was added', async ({
  stack,
}) => {
  const row = passkeyRow(ownerPage, firstCredential)
  await expect(row.getByTestId('passkey-name')).toHaveText('Passkey 1')
  await expect(row.getByTestId('passkey-current')).toHaveText('This device')
  await expect(row.getByTestId('passkey-page')).toHaveText('main sign-in page')
  await expect(row).toContainText(new URL(stack.authServerUrl).host)
  await expect(row.getByTestId('passkey-added')).toHaveText(/\d{4}/)
  await expect(row.getByTestId('passkey-last-used')).toHaveText(/\d{4}/)
  await expect(ownerPage.getByText('Names are kept in this browser only')).toBeVisible()
  await screenshots(ownerPage, 'passkeys-one')
})

test('behavior: a second passkey made on this device is added with one approval and logs in on its own', async ({
  browser,
  stack,
  chain,
}) => {
  const before = new Set(ownerKeys.list().map((c) => c.credentialId))
  await ownerPage.getByTestId('passkey-add-here').click()
  await expect(ownerPage.getByTestId('passkey-review')).toContainText('on this device')
  await screenshots(ownerPage, 'passkeys-review')
  await approveReview(ownerPage, new URL(stack.authServerUrl).origin, 'main sign-in page')
  added.here = newest(ownerKeys, before)
  await expect(ownerPage.getByTestId('passkey')).toHaveCount(2)
  await expect(passkeyRow(ownerPage, added.here).getByTestId('passkey-name')).toHaveText('Passkey 2')
  await expect(passkeyRow(ownerPage, added.here)).toContainText('Made here')
  const { x, y } = keyOf(added.here)
  const onChain = await chain.readContract({
    address: stack.contracts.webAuthnValidator!,
    abi: webAuthnValidatorAbi,
    functionName: 'passkeyState',
    args: [
      account,
      bytesToHex(Buffer.from(added.here.credentialId, 'base64')),
      x,
      y,
      'localhost',
      new URL(stack.authServerUrl).origin,
    ],
  })
  expect(onChain).toBe(2) // Proven

  // A browser holding only the new passkey logs in to the same account and sees it as its own.
  const device = await deviceWith(browser, [added.here])
  try {
    const page = await logInOn(device, stack.authServerUrl)
    await expect(page.getByTestId('account-address')).toHaveText(account)
    await expect(passkeyRow(page, added.here).getByTestId('passkey-current')).toHaveText('This device')
  } finally {
    await device.context.close()
  }
})

test('behavior: a passkey from another device through the link; bad or replayed codes change nothing', async ({
  browser,
  stack,
}) => {
  otherDevice = await newDevice(browser, new PasskeyStore())
  const main = new URL(stack.authServerUrl).origin
  const made = await makeOnOtherDevice('passkey-add-other', otherDevice, main)
  added.other = made.credential
  expect(made.answer.startsWith(`${main}/dashboard#add-passkey=sso-passkey-1.`)).toBe(true)
  await screenshots(ownerPage, 'passkeys-link')
  await screenshots(made.page, 'add-device-done')

  // Garbage and a tampered code are refused with a reason; the list does not change.
  const input = ownerPage.getByTestId('passkey-code-input')
  await input.fill('not a code')
  await ownerPage.getByTestId('passkey-code-submit').click()
  await expect(ownerPage.getByTestId('passkeys-error')).toHaveText(/not a passkey code of this service/)
  const tampered = JSON.parse(Buffer.from(made.code.slice('sso-passkey-1.'.length), 'base64url').toString())
  tampered.origin = 'https://evil.example'
  await input.fill(`sso-passkey-1.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}`)
  await ownerPage.getByTestId('passkey-code-submit').click()
  await expect(ownerPage.getByTestId('passkeys-error')).toHaveText(
    /which is not a sign-in page of this service/,
  )
  await expect(ownerPage.getByTestId('passkey-review')).toHaveCount(0)
  await expect(ownerPage.getByTestId('passkey')).toHaveCount(2)

  await input.fill(made.code)
  await ownerPage.getByTestId('passkey-code-submit').click()
  await expect(ownerPage.getByTestId('passkey-review')).toContainText('on another device')
  await expect(ownerPage.getByTestId('passkey-review-id')).toHaveText(/^.{6}….{6}$/)
  await approveReview(ownerPage, main, 'main sign-in page')
  await expect(ownerPage.getByTestId('passkey')).toHaveCount(3)

  // The same code again: already on the account.
  await ownerPage.getByTestId('passkey-add-other').click()
  await ownerPage.getByTestId('passkey-code-input').fill(made.code)
  await ownerPage.getByTestId('passkey-code-submit').click()
  await expect(ownerPage.getByTestId('passkeys-error')).toHaveText('This passkey is already on the account.')
  await ownerPage.getByTestId('passkey-link-cancel').click()

  // The other device now logs in to the account.
  const page = await logInOn(otherDevice, stack.authServerUrl)
  await expect(page.getByTestId('account-address')).toHaveText(account)
  await page.close()
})

test('behavior: rename is kept in this browser', async () => {
  const row = passkeyRow(ownerPage, added.other!)
  await row.getByTestId('passkey-rename').click()
  await row.getByTestId('passkey-name-input').fill('  Work   laptop ')
  await screenshots(ownerPage, 'passkeys-rename')
  await row.getByTestId('passkey-name-save').click()
  await expect(row.getByTestId('passkey-name')).toHaveText('Work laptop')
  await ownerPage.reload()
  await expect(passkeyRow(ownerPage, added.other!).getByTestId('passkey-name')).toHaveText('Work laptop')
  // An empty name is refused and the old one stays.
  await passkeyRow(ownerPage, added.other!).getByTestId('passkey-rename').click()
  await passkeyRow(ownerPage, added.other!).getByTestId('passkey-name-input').fill('   ')
  await passkeyRow(ownerPage, added.other!).getByTestId('passkey-name-save').click()
  await expect(ownerPage.getByTestId('passkeys-error')).toHaveText('A name can’t be empty.')
  await passkeyRow(ownerPage, added.other!).getByTestId('passkey-name-cancel').click()
  await expect(passkeyRow(ownerPage, added.other!).getByTestId('passkey-name')).toHaveText('Work laptop')
})

test('behavior: remove asks first; the removed passkey no longer logs in', async ({ stack }) => {
  const row = passkeyRow(ownerPage, added.other!)
  await row.getByTestId('passkey-remove').click()
  const dialog = ownerPage.getByTestId('passkey-remove-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog).toContainText('Remove “Work laptop”?')
  await screenshots(ownerPage, 'passkeys-remove-dialog')
  await ownerPage.getByTestId('passkey-remove-cancel').click()
  await expect(dialog).toBeHidden()
  await expect(ownerPage.getByTestId('passkey')).toHaveCount(3)

  await row.getByTestId('passkey-remove').click()
  await ownerPage.getByTestId('passkey-remove-confirm').click()
  await expect(ownerPage.getByTestId('passkeys-notice')).toHaveText(/Passkey removed/, { timeout: 30_000 })
  await expect(ownerPage.getByTestId('passkey')).toHaveCount(2)

  // The other device, still showing the account it logged in to, is told; its passkey can't sign any more.
  const page = await otherDevice!.context.newPage()
  await page.goto(`${stack.authServerUrl}/dashboard`)
  await expect(page.getByTestId('account-address')).toHaveText(account)
  await expect(page.getByTestId('passkey-current-removed')).toBeVisible()
  await page.getByTestId('passkey-add-here').click()
  await page.getByTestId('passkey-approve').click()
  await expect(page.getByTestId('passkeys-error')).toHaveText(/^Sending the user operation to .* failed/, {
    timeout: 30_000,
  })
  await expect(page.getByTestId('passkey')).toHaveCount(2)
  // Logged out, its log-in no longer reaches the account (at most the passkey's own, empty, undeployed one).
  await page.getByTestId('logout').click()
  await page.getByTestId('login').click()
  await expect(page.getByTestId('account-address')).toHaveText(/0x[0-9a-fA-F]{40}/)
  await expect(page.getByTestId('account-address')).not.toHaveText(account)
  await expect(page.getByTestId('passkeys-empty')).toBeVisible()
  await page.close()
})

test('error: the passkey signed in with and the last passkey can’t be removed (UI and contract)', async ({
  stack,
  chain,
}) => {
  // The one this device signs in with: refused, with the way out.
  await passkeyRow(ownerPage, firstCredential).getByTestId('passkey-remove').click()
  await expect(ownerPage.getByTestId('passkey-remove-refused')).toHaveText(
    'You are signed in with this passkey. To remove it, log in with another passkey of the account.',
  )
  await expect(ownerPage.getByTestId('passkey-remove-confirm')).toHaveCount(0)
  await ownerPage.getByTestId('passkey-remove-cancel').click()

  // Remove the second one: the first is then the last, which the UI and the contract both refuse to remove.
  await passkeyRow(ownerPage, added.here!).getByTestId('passkey-remove').click()
  await ownerPage.getByTestId('passkey-remove-confirm').click()
  await expect(ownerPage.getByTestId('passkey')).toHaveCount(1, { timeout: 30_000 })
  await passkeyRow(ownerPage, firstCredential).getByTestId('passkey-remove').click()
  await expect(ownerPage.getByTestId('passkey-remove-refused')).toHaveText(
    /This is the account’s only passkey/,
  )
  await screenshots(ownerPage, 'passkeys-remove-refused')
  await ownerPage.getByTestId('passkey-remove-cancel').click()

  const error = await chain
    .simulateContract({
      account,
      address: stack.contracts.webAuthnValidator!,
      abi: webAuthnValidatorAbi,
      functionName: 'removePasskey',
      args: [bytesToHex(Buffer.from(firstCredential.credentialId, 'base64'))],
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  expect(error).toBeInstanceOf(BaseError)
  const revert = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
  expect((revert as ContractFunctionRevertedError | null)?.data?.errorName).toBe('LastPasskey')
})

test('behavior: a backup passkey on the backup page logs in to the same account and signs there; each page accepts only its own', async ({
  browser,
  stack,
  chain,
}) => {
  const main = new URL(stack.authServerUrl).origin
  const backup = new URL(stack.backupAuthServerUrl).origin
  expect(new URL(backup).hostname).toBe('backup.localhost')
  backupDevice = await newDevice(browser, new PasskeyStore())
  const made = await makeOnOtherDevice('passkey-add-backup', backupDevice, backup)
  added.backup = made.credential
  expect(made.credential.rpId).toBe('backup.localhost')
  // The answer link leads back to the main page's dashboard, which shows what is being added.
  const answerPage = await owner.context.newPage()
  await answerPage.goto(made.answer)
  await approveReview(answerPage, backup, 'backup sign-in page')
  await expect(answerPage).toHaveURL(`${main}/dashboard`)
  await expect(passkeyRow(answerPage, added.backup).getByTestId('passkey-page')).toHaveText(
    'backup sign-in page',
  )
  await screenshots(answerPage, 'passkeys-backup')
  await answerPage.close()

  // Log-in on the backup page finds the account; its passkey signs a user operation there (adds a passkey).
  const page = await logInOn(backupDevice, backup)
  await expect(page.getByTestId('account-address')).toHaveText(account)
  await expect(passkeyRow(page, added.backup).getByTestId('passkey-current')).toHaveText('This device')
  const nonceOf = () =>
    chain.readContract({
      address: stack.contracts.entryPoint!,
      abi: entryPoint08Abi,
      functionName: 'getNonce',
      args: [account, nonceKey(stack.contracts.webAuthnValidator!)],
    })
  const nonceBefore = await nonceOf()
  const before = new Set(backupDevice.passkeys.store.list().map((c) => c.credentialId))
  await page.getByTestId('passkey-add-here').click()
  await approveReview(page, backup, 'backup sign-in page')
  const second = newest(backupDevice.passkeys.store, before)
  await expect(page.getByTestId('passkey')).toHaveCount(3)
  // One user operation, signed on the backup page by its passkey (the only one this device holds).
  expect(await nonceOf()).toBe(nonceBefore + 1n)
  await page.close()

  // The main page's passkey keeps working there (log-in on a fresh browser).
  const mainDevice = await deviceWith(browser, [firstCredential])
  try {
    const mainPage = await logInOn(mainDevice, main)
    await expect(mainPage.getByTestId('account-address')).toHaveText(account)
  } finally {
    await mainDevice.context.close()
  }

  // The main page's passkey is not one of the backup page's (another rpId): log-in there finds nothing.
  const stranger = await deviceWith(browser, [firstCredential])
  try {
    const wrong = await stranger.context.newPage()
    await wrong.goto(`${backup}/dashboard`)
    await wrong.getByTestId('login').click()
    await expect(wrong.getByTestId('error')).toHaveText(
      'No passkey was picked: cancelled, or this device has no passkey for backup.localhost (a passkey of another sign-in page does not work here).',
      { timeout: 30_000 },
    )
    await expect(wrong.getByTestId('account-address')).toHaveCount(0)
  } finally {
    await stranger.context.close()
  }

  // And on chain each passkey verifies only with its own page's origin.
  const hash = keccak256(stringToHex('devices.spec'))
  const verify = (c: VirtualCredential, rpId: string, origin: string) =>
    chain.readContract({
      address: stack.contracts.webAuthnValidator!,
      abi: webAuthnValidatorAbi,
      functionName: 'verify',
      args: [account, hash, signatureAs(c, hash, rpId, origin)],
    })
  expect(await verify(firstCredential, 'localhost', main)).toBe(true)
  expect(await verify(firstCredential, 'localhost', backup)).toBe(false)
  expect(await verify(firstCredential, 'backup.localhost', backup)).toBe(false)
  expect(await verify(second, 'backup.localhost', backup)).toBe(true)
  expect(await verify(second, 'backup.localhost', main)).toBe(false)
})

test('error: a broken add-device link says why and offers nothing to create', async ({ stack }) => {
  const page = await owner.context.newPage()
  await page.goto(
    `${stack.authServerUrl}/add-device?account=${account}&chain=1&from=${encodeURIComponent(stack.authServerUrl)}`,
  )
  await expect(page.getByTestId('add-device-error')).toHaveText(
    /names chain "1", which this sign-in page does not serve/,
  )
  await expect(page.getByTestId('add-device-create')).toHaveCount(0)
  await screenshots(page, 'add-device-invalid')
  await page.goto(
    `${stack.authServerUrl}/add-device?account=${account}&chain=${stack.chainId}&from=${encodeURIComponent(stack.authServerUrl)}`,
  )
  await expect(page.getByTestId('add-device-create')).toBeVisible()
  await screenshots(page, 'add-device')
  await page.close()
})
