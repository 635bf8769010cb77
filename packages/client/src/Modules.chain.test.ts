// @vitest-environment node
/**
 * The module reads and the uninstall rule against a real SsoAccount on a real anvil (osaka), deployed as the devnet
 * deploys it. The account's own calls are sent from its address (anvil impersonation); the e2e spec
 * (playwright/specs/modules.spec.ts) makes the same changes through passkey userOps and the popup.
 */
import { ssoAccountAbi } from '@sso/contracts-abi'
import {
  type Address,
  type BaseError,
  decodeErrorResult,
  encodeAbiParameters,
  type Hex,
  parseAbiParameters,
  parseEther,
  zeroAddress,
} from 'viem'
import { getBlockNumber, mine } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Call } from './Execution.js'
import { type AnvilClient, startAnvilChain } from './internal/anvilChain.js'
import {
  checkUninstall,
  installModuleCall,
  isScopedValidator,
  readModuleInstalled,
  readModules,
  uninstallModuleCall,
} from './Modules.js'
import { toSsoAccount } from './SsoAccount.js'
import { createTestPasskey } from './testing/index.js'

let stopChain: (() => void) | undefined
let client: AnvilClient
let contracts: Record<
  'accountFactory' | 'webAuthnValidator' | 'sessionKeyValidator' | 'guardianExecutor' | 'allowanceExecutor',
  Address
>

beforeAll(async () => {
  const chain = await startAnvilChain()
  stopChain = chain.stop
  client = chain.client
  const at = (name: string): Address => {
    const address = chain.contracts[name]
    if (!address) throw new Error(`${name} is not in the deployment plan`)
    return address
  }
  contracts = {
    accountFactory: at('AccountFactory'),
    webAuthnValidator: at('WebAuthnValidator'),
    sessionKeyValidator: at('SessionKeyValidator'),
    guardianExecutor: at('GuardianExecutor'),
    allowanceExecutor: at('AllowanceExecutor'),
  }
}, 600_000)

afterAll(() => {
  stopChain?.()
})

async function deployAccount(): Promise<Address> {
  const owner = createTestPasskey()
  const account = await toSsoAccount({ client, credential: owner.credential, sign: owner.sign, contracts })
  const { factory, factoryData } = await account.getFactoryArgs()
  await client.waitForTransactionReceipt({
    hash: await client.sendTransaction({
      to: factory as Address,
      data: factoryData as Hex,
      chain: client.chain,
    }),
  })
  await client.setBalance({ address: account.address, value: parseEther('1') })
  await client.impersonateAccount({ address: account.address })
  return account.address
}

async function send(from: Address, call: Call) {
  const hash = await client.sendTransaction({
    account: from,
    to: call.to,
    data: call.data,
    chain: client.chain,
  })
  expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success')
}

describe('Modules on chain', () => {
  test('behavior: a new account lists its default modules, an undeployed one none', async () => {
    const account = await deployAccount()
    // Validators first (type 1, by address), then executors (type 2).
    const validators = [contracts.webAuthnValidator, contracts.sessionKeyValidator].sort((a, b) =>
      a.toLowerCase().localeCompare(b.toLowerCase()),
    )
    expect(await readModules({ client, account })).toEqual([
      ...validators.map((address) => ({ type: 'validator', address })),
      { type: 'executor', address: contracts.guardianExecutor },
    ])
    const nobody = '0x000000000000000000000000000000000000dEaD'
    expect(await readModules({ client, account: nobody })).toEqual([])
    expect(
      await readModuleInstalled({
        client,
        account: nobody,
        type: 'validator',
        address: contracts.webAuthnValidator,
      }),
    ).toBe(false)
  })

  test('behavior: install the AllowanceExecutor, list it, uninstall it', async () => {
    const account = await deployAccount()
    const module = { type: 'executor', address: contracts.allowanceExecutor } as const
    const data = encodeAbiParameters(parseAbiParameters('address, address, uint256, uint256'), [
      '0x00000000000000000000000000000000000000A1',
      zeroAddress,
      parseEther('0.1'),
      86_400n,
    ])
    expect(await readModuleInstalled({ client, account, ...module })).toBe(false)
    await send(account, installModuleCall({ account, ...module, data }))
    expect(await readModuleInstalled({ client, account, ...module })).toBe(true)
    expect(await readModules({ client, account })).toContainEqual(module)
    // Events are read from `fromBlock` on: a floor after the install no longer sees it.
    const installedIn = await getBlockNumber(client, { cacheTime: 0 })
    await mine(client, { blocks: 1 })
    expect(await readModules({ client, account, fromBlock: installedIn + 1n })).not.toContainEqual(module)
    expect(await checkUninstall({ client, account, ...module })).toBeUndefined()
    await send(account, uninstallModuleCall({ account, ...module }))
    expect(await readModules({ client, account })).not.toContainEqual(module)
    expect(await checkUninstall({ client, account, ...module })).toEqual({
      reason: 'not-installed',
      message: `${contracts.allowanceExecutor} is not installed as a executor on ${account}.`,
    })
  })

  test('error: the last validator that can sign is refused; the session validator is not', async () => {
    const account = await deployAccount()
    expect(await isScopedValidator(client, contracts.sessionKeyValidator)).toBe(true)
    expect(await isScopedValidator(client, contracts.webAuthnValidator)).toBe(false)
    const refusal = await checkUninstall({
      client,
      account,
      type: 'validator',
      address: contracts.webAuthnValidator,
    })
    expect(refusal?.reason).toBe('last-signing-validator')
    expect(refusal?.message).toBe(
      `${contracts.webAuthnValidator} is the last validator that can sign for the account (its passkeys): uninstalling it would lock the account, so it can't be uninstalled.`,
    )
    // The chain agrees: the account reverts with LastSigningValidator.
    const call = uninstallModuleCall({ account, type: 'validator', address: contracts.webAuthnValidator })
    const reverted = await client.call({ account, to: call.to, data: call.data }).then(
      () => undefined,
      (error: BaseError) =>
        error.walk((e) => typeof (e as { data?: unknown }).data === 'string') as { data?: Hex },
    )
    expect(decodeErrorResult({ abi: ssoAccountAbi, data: reverted?.data ?? '0x' })).toEqual({
      abiItem: expect.objectContaining({ name: 'LastSigningValidator' }),
      args: [contracts.webAuthnValidator],
      errorName: 'LastSigningValidator',
    })
    expect(
      await checkUninstall({ client, account, type: 'validator', address: contracts.sessionKeyValidator }),
    ).toBeUndefined()
  })
})
