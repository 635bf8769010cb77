import { createPrivateKey, sign as nodeSign } from 'node:crypto'
import type { Page } from '@playwright/test'
import {
  accountFactoryAbi,
  encodeWebAuthnSignature,
  registrationChallenge,
  webAuthnValidatorAbi,
} from '@sso/client/account'
import { createTestPasskey } from '@sso/client/testing'
import { bytesToBase64Url } from '@sso/client/webauthn'
import {
  type Address,
  bytesToHex,
  encodeAbiParameters,
  encodeFunctionData,
  type Hex,
  type PublicClient,
  parseAbi,
  parseEther,
  sha256,
  stringToHex,
  type TestClient,
} from 'viem'
import { clickForPopup, type Device, newDevice } from '../fixtures/device.js'
import { expectClosed, expectRequest, openDemo, readAddress, signUp } from '../fixtures/flows.js'
import { PasskeyStore, type VirtualCredential } from '../fixtures/passkeys.js'
import { expect, test } from '../fixtures/test.js'

/**
 * Log-in on a new device resolves only genuine accounts (issue "Trust hardening", section 1): a passkey's id and
 * public key are public after one use, and anyone can register them on chain. The victim signs up in the popup;
 * attackers then register the victim's credential for contracts and an SSO account of theirs; the victim's log-in
 * on a fresh device still lands on the victim's account. A passkey really added (with its proof) to a second
 * account of the victim makes the popup ask which account to use.
 */
test.describe.configure({ mode: 'serial' })

const accountAbi = parseAbi([
  'function installModule(uint256 moduleTypeId, address module, bytes initData)',
  'function uninstallModule(uint256 moduleTypeId, address module, bytes deInitData)',
])

let victimDevice: Device
/** This story's synced passkeys, apart from the other specs' (their log-ins must not meet the victim's passkey). */
const synced = new PasskeyStore()
let victim: Address
let credential: VirtualCredential
let key: { x: Hex; y: Hex }
let rpId: string
let origin: string

function credentialHex(c: VirtualCredential): Hex {
  return bytesToHex(Buffer.from(c.credentialId, 'base64'))
}

/** The P-256 public key of a CDP credential (its PKCS#8 private key). */
function publicKeyOf(c: VirtualCredential): { x: Hex; y: Hex } {
  const privateKey = createPrivateKey({
    key: Buffer.from(c.privateKey, 'base64'),
    format: 'der',
    type: 'pkcs8',
  })
  const jwk = privateKey.export({ format: 'jwk' })
  return {
    x: bytesToHex(Buffer.from(jwk.x as string, 'base64url')),
    y: bytesToHex(Buffer.from(jwk.y as string, 'base64url')),
  }
}

/** What the victim's authenticator would sign for `challenge` on the auth page (a genuine assertion). */
function assertWith(c: VirtualCredential, challenge: Hex) {
  const authenticatorData = `${sha256(stringToHex(rpId)).slice(0, 66)}0500000009` as Hex
  const clientDataJSON = JSON.stringify({
    type: 'webauthn.get',
    challenge: bytesToBase64Url(Buffer.from(challenge.slice(2), 'hex')),
    origin,
    crossOrigin: false,
  })
  const message = Buffer.concat([
    Buffer.from(authenticatorData.slice(2), 'hex'),
    Buffer.from(sha256(stringToHex(clientDataJSON)).slice(2), 'hex'),
  ])
  const privateKey = createPrivateKey({
    key: Buffer.from(c.privateKey, 'base64'),
    format: 'der',
    type: 'pkcs8',
  })
  const signature = bytesToHex(nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'der' }))
  return { authenticatorData, clientDataJSON, signature }
}

/** Sends a transaction as `from` (an account contract or any address), impersonated on anvil. */
async function sendAs(
  { anvil, chain }: { anvil: TestClient<'anvil'>; chain: PublicClient },
  from: Address,
  to: Address,
  data: Hex,
) {
  await anvil.impersonateAccount({ address: from })
  await anvil.setBalance({ address: from, value: parseEther('1') })
  const hash = await anvil.request({
    method: 'eth_sendTransaction',
    params: [{ from, to, data, gas: '0x1e8480' }],
  } as never)
  await anvil.stopImpersonatingAccount({ address: from })
  return chain.waitForTransactionReceipt({ hash: hash as Hex })
}

/** Logs in on a fresh device through the demo's popup; returns the popup (still open when a choice is asked). */
async function startLogIn(device: Device, page: Page, stack: Parameters<typeof openDemo>[1]) {
  await openDemo(page, stack)
  const popup = await clickForPopup(device, page, 'connect')
  await expectRequest(popup, stack, 'eth_requestAccounts')
  await popup.getByTestId('login').click()
  return popup
}

test.beforeAll(async ({ browser, stack, chain }) => {
  victimDevice = await newDevice(browser, synced)
  const page = await victimDevice.context.newPage()
  await openDemo(page, stack)
  victim = (await signUp(victimDevice, page, stack)).address
  credential = synced.list().at(-1)!
  key = publicKeyOf(credential)
  origin = new URL(stack.authServerUrl).origin
  rpId = new URL(stack.authServerUrl).hostname
  // The victim's passkey is the first passkey of its account: the address derives from it.
  const derived = await chain.readContract({
    address: stack.contracts.accountFactory!,
    abi: accountFactoryAbi,
    functionName: 'getAddress',
    args: [credentialHex(credential), key.x, key.y, rpId, origin],
  })
  expect(derived).toBe(victim)
})

test.afterAll(async () => {
  await victimDevice?.context.close()
})

test('attack: contracts and an SSO account of the attacker register the victim’s credential; log-in still finds the victim only', async ({
  browser,
  stack,
  chain,
  anvil,
}) => {
  const validator = stack.contracts.webAuthnValidator!
  const factory = stack.contracts.accountFactory!
  const initData = encodeAbiParameters(
    [{ type: 'bytes' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'string' }, { type: 'string' }],
    [credentialHex(credential), key.x, key.y, rpId, origin],
  )
  const impersonated = (from: Address, to: Address, data: Hex) => sendAs({ anvil, chain }, from, to, data)
  // selector setPasskeyEntry(bytes4,uint256) → SSTORE(calldata[4], calldata[36]); passkeyEntry(address,bytes4) →
  // return SLOAD(calldata[36]); anything else → return CALLDATASIZE > 4.
  const junkAccount: Hex =
    '0x60003560e01c8063ff380ad714602557638fe22e9914602e576004361160005260206000f35b60243560043555005b6024355460005260206000f3'

  // 1. Twenty contracts of the attacker register the victim's credential straight with the validator. The
  //    validator takes keys only from an account that reports it installed and keeps its passkeys
  //    (docs/webauthn.md, "Where passkeys are stored"): an address without such code is refused, so the junk
  //    contracts store what `setPasskeyEntry` writes, answer it to `passkeyEntry`, and answer true to every other
  //    call with arguments (`isModuleInstalled`).
  const onInstall = encodeFunctionData({
    abi: parseAbi(['function onInstall(bytes)']),
    functionName: 'onInstall',
    args: [initData],
  })
  const plain = await impersonated('0x0000000000000000000000000000000000bad0ff', validator, onInstall)
  expect(plain.status).toBe('reverted')
  for (let i = 0; i < 20; i++) {
    const junk = `0x${(0xbad0000 + i).toString(16).padStart(40, '0')}` as Address
    await anvil.setCode({ address: junk, bytecode: junkAccount })
    const receipt = await impersonated(junk, validator, onInstall)
    expect(receipt.status).toBe('success')
  }

  // 2. An SSO account of the attacker (factory-made, genuine) re-installs the validator with the victim's
  //    credential, and tries to add it without the victim's proof.
  const attackerPasskey = createTestPasskey({ origin })
  const attackerKey = attackerPasskey.credential.publicKey
  const attackerId = bytesToHex(Buffer.from(attackerPasskey.credential.id, 'base64url'))
  const createArgs = [attackerId, attackerKey.x, attackerKey.y, rpId, origin] as const
  const attacker = await chain.readContract({
    address: factory,
    abi: accountFactoryAbi,
    functionName: 'getAddress',
    args: createArgs,
  })
  const created = await impersonated(
    '0x00000000000000000000000000000000000a77ac',
    factory,
    encodeFunctionData({ abi: accountFactoryAbi, functionName: 'createAccount', args: createArgs }),
  )
  expect(created.status).toBe('success')
  const refused = await impersonated(
    attacker,
    validator,
    encodeFunctionData({
      abi: webAuthnValidatorAbi,
      functionName: 'addPasskey',
      args: [credentialHex(credential), key.x, key.y, rpId, origin, '0x'],
    }),
  )
  expect(refused.status).toBe('reverted')
  // The account never drops its last signing validator, so the attacker first installs one of its own: code that
  // answers true to every call with arguments (`isModuleType`) and false to `isScopedValidator()` (no arguments).
  // PUSH1 4 CALLDATASIZE GT PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
  const ownValidator: Address = '0x00000000000000000000000000000000000a77a1'
  await anvil.setCode({ address: ownValidator, bytecode: '0x6004361160005260206000f3' })
  const second = await impersonated(
    attacker,
    attacker,
    encodeFunctionData({ abi: accountAbi, functionName: 'installModule', args: [1n, ownValidator, '0x'] }),
  )
  expect(second.status).toBe('success')
  const uninstall = await impersonated(
    attacker,
    attacker,
    encodeFunctionData({
      abi: accountAbi,
      functionName: 'uninstallModule',
      args: [1n, validator, encodeAbiParameters([{ type: 'bytes[]' }], [[attackerId]])],
    }),
  )
  expect(uninstall.status).toBe('success')
  const reinstall = await impersonated(
    attacker,
    attacker,
    encodeFunctionData({ abi: accountAbi, functionName: 'installModule', args: [1n, validator, initData] }),
  )
  expect(reinstall.status).toBe('success')
  expect(
    await chain.readContract({
      address: validator,
      abi: webAuthnValidatorAbi,
      functionName: 'hasPasskey',
      args: [attacker, credentialHex(credential), key.x, key.y, rpId, origin],
    }),
  ).toBe(true)
  expect(
    await chain.readContract({
      address: validator,
      abi: webAuthnValidatorAbi,
      functionName: 'accountsOf',
      args: [credentialHex(credential), key.x, key.y, rpId, origin],
    }),
  ).toEqual([])

  // 3. Twenty contracts register the victim's credential id under the attacker's own key, each with a valid proof
  //    of possession by that key: the passkey -> account index is keyed by the key, so the victim's stays empty.
  for (let i = 0; i < 20; i++) {
    const junk = `0x${(0xbad1000 + i).toString(16).padStart(40, '0')}` as Address
    await anvil.setCode({ address: junk, bytecode: junkAccount })
    const proof = encodeWebAuthnSignature({
      credential: {
        id: Buffer.from(credential.credentialId, 'base64').toString('base64url'),
        publicKey: attackerKey,
      },
      assertion: await attackerPasskey.sign(
        registrationChallenge({
          webAuthnValidator: validator,
          account: junk,
          credentialId: Buffer.from(credential.credentialId, 'base64').toString('base64url'),
        }),
      ),
    })
    const receipt = await impersonated(
      junk,
      validator,
      encodeFunctionData({
        abi: parseAbi(['function onInstall(bytes)']),
        functionName: 'onInstall',
        args: [
          encodeAbiParameters(
            [
              { type: 'bytes' },
              { type: 'bytes32' },
              { type: 'bytes32' },
              { type: 'string' },
              { type: 'string' },
              { type: 'bytes' },
            ],
            [credentialHex(credential), attackerKey.x, attackerKey.y, rpId, origin, proof],
          ),
        ],
      }),
    )
    // The attacker's own list is full after 16: its 17th registration is refused (TooManyAccounts).
    expect(receipt.status).toBe(i < 16 ? 'success' : 'reverted')
  }
  expect(
    await chain.readContract({
      address: validator,
      abi: webAuthnValidatorAbi,
      functionName: 'accountsOf',
      args: [credentialHex(credential), key.x, key.y, rpId, origin],
    }),
  ).toEqual([])

  // 3. The victim logs in on a new device with the synced passkey: its own account, no choice asked.
  const device = await newDevice(browser, synced)
  try {
    const page = await device.context.newPage()
    const popup = await startLogIn(device, page, stack)
    await expectClosed(popup)
    expect(await readAddress(page)).toBe(victim)
  } finally {
    await device.context.close()
  }
})

test('behavior: a passkey added with its proof to a second account of the user: the popup asks which account, showing both', async ({
  browser,
  stack,
  chain,
  anvil,
}) => {
  const validator = stack.contracts.webAuthnValidator!
  const factory = stack.contracts.accountFactory!
  // A second account of the user (made with another passkey), to which the victim's passkey is added with a
  // proof signed by that passkey (what the dashboard's "add a passkey" does).
  const other = createTestPasskey({ origin })
  const otherId = bytesToHex(Buffer.from(other.credential.id, 'base64url'))
  const args = [otherId, other.credential.publicKey.x, other.credential.publicKey.y, rpId, origin] as const
  const second = await chain.readContract({
    address: factory,
    abi: accountFactoryAbi,
    functionName: 'getAddress',
    args,
  })
  const funder = '0x00000000000000000000000000000000000f0de1' as Address
  const created = await sendAs(
    { anvil, chain },
    funder,
    factory,
    encodeFunctionData({ abi: accountFactoryAbi, functionName: 'createAccount', args }),
  )
  expect(created.status).toBe('success')
  const proof = encodeWebAuthnSignature({
    credential: { id: Buffer.from(credential.credentialId, 'base64').toString('base64url'), publicKey: key },
    assertion: assertWith(
      credential,
      registrationChallenge({
        webAuthnValidator: validator,
        account: second,
        credentialId: Buffer.from(credential.credentialId, 'base64').toString('base64url'),
      }),
    ),
  })
  const added = await sendAs(
    { anvil, chain },
    second,
    validator,
    encodeFunctionData({
      abi: webAuthnValidatorAbi,
      functionName: 'addPasskey',
      args: [credentialHex(credential), key.x, key.y, rpId, origin, proof],
    }),
  )
  expect(added.status).toBe('success')

  const device = await newDevice(browser, synced)
  try {
    const page = await device.context.newPage()
    const popup = await startLogIn(device, page, stack)
    const chooser = popup.getByTestId('account-chooser')
    await expect(chooser).toBeVisible()
    await expect(chooser).toContainText(victim)
    await expect(chooser).toContainText(second)
    await expect(chooser.getByRole('button', { name: /^Use account/ })).toHaveCount(2)
    await popup.setViewportSize({ width: 400, height: 640 })
    await popup.screenshot({ path: test.info().outputPath('account-chooser-400.png') })
    await popup.getByTestId(`choose-${second}`).click()
    await expectClosed(popup)
    expect(await readAddress(page)).toBe(second)
  } finally {
    await device.context.close()
  }
})

test('behavior: once the passkey has left every account, log-in says so and connects nothing (not the other recovered key’s empty address)', async ({
  browser,
  stack,
  chain,
  anvil,
}) => {
  const validator = stack.contracts.webAuthnValidator!
  const factory = stack.contracts.accountFactory!
  const asAccount = (from: Address, data: Hex) => sendAs({ anvil, chain }, from, validator, data)
  // The victim's account takes another passkey (with its proof) and drops the synced one; so does the second
  // account of the previous story. The synced passkey now opens no account.
  const replacement = createTestPasskey({ origin })
  const { x, y } = replacement.credential.publicKey
  const proof = encodeWebAuthnSignature({
    credential: replacement.credential,
    assertion: await replacement.sign(
      registrationChallenge({
        webAuthnValidator: validator,
        account: victim,
        credentialId: replacement.credential.id,
      }),
    ),
  })
  const replacementId = bytesToHex(Buffer.from(replacement.credential.id, 'base64url'))
  const add = encodeFunctionData({
    abi: webAuthnValidatorAbi,
    functionName: 'addPasskey',
    args: [replacementId, x, y, rpId, origin, proof],
  })
  expect((await asAccount(victim, add)).status).toBe('success')
  const remove = encodeFunctionData({
    abi: webAuthnValidatorAbi,
    functionName: 'removePasskey',
    args: [credentialHex(credential)],
  })
  expect((await asAccount(victim, remove)).status).toBe('success')
  const joined = await chain.readContract({
    address: validator,
    abi: webAuthnValidatorAbi,
    functionName: 'accountsOf',
    args: [credentialHex(credential), key.x, key.y, rpId, origin],
  })
  for (const account of joined) expect((await asAccount(account, remove)).status).toBe('success')
  expect(
    await chain.readContract({
      address: factory,
      abi: accountFactoryAbi,
      functionName: 'getAddress',
      args: [credentialHex(credential), key.x, key.y, rpId, origin],
    }),
  ).toBe(victim)

  const device = await newDevice(browser, synced)
  try {
    const page = await device.context.newPage()
    const popup = await startLogIn(device, page, stack)
    await expect(popup.getByTestId('request-error-message')).toHaveText(
      /^No account on .+ holds this passkey\. Sign up first, or use the passkey of an existing account\.$/,
    )
    await expect(popup.getByTestId('account-chooser')).toHaveCount(0)
    await popup.getByTestId('reject').click()
    await expectClosed(popup)
    await expect(page.getByTestId('error')).toContainText('4001')
    await expect(page.getByTestId('address')).toHaveText('not connected')
  } finally {
    await device.context.close()
  }
})
