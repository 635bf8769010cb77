/**
 * Every kind of userOp SSO sends, checked against ERC-7562 (the validation rules public bundlers enforce; the
 * devnet's Alto runs with safe mode off and does not) on a private devnet, then sent through Alto: the first
 * (deploying) passkey userOp, a later passkey userOp, creating a session (a passkey userOp) and using it (a
 * SessionKeyValidator signature), each self-paid and sponsored by the SponsorPaymaster. The last tests show what
 * the check reports when an entity is not staked. Rules and stakes: docs/erc7562.md.
 */

import { estimateUserOperationFees, type SsoAccount, toSsoAccount } from '@sso/client/account'
import {
  createMemoryKeyStore,
  createSecp256k1SessionSigner,
  encodeSessionSpec,
  lifetime,
  type SessionSpec,
  sessionKeyValidatorAbi,
  toSessionAccount,
  transferPolicy,
} from '@sso/client/session'
import { createTestPasskey, type TestPasskey } from '@sso/client/testing'
import { devnetOwner, entryPoint08, sponsorPaymasterAbi } from '@sso/contracts-abi'
import { resolveDeployments } from '@sso/contracts-abi/artifacts'
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  numberToHex,
  type PublicClient,
  parseAbi,
  parseEther,
} from 'viem'
import {
  type BundlerClient,
  createBundlerClient,
  createPaymasterClient,
  formatUserOperationRequest,
  type SmartAccount,
  toPackedUserOperation,
  type UserOperation,
} from 'viem/account-abstraction'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkUserOperation, type Erc7562Check, formatViolations } from './Erc7562.js'
import { anvilKeys, type Stack, startStack } from './Stack.js'

type Call = { to: Address; value?: bigint; data?: Hex }
describe('ERC-7562: the userOps SSO sends', () => {
  let stack: Stack
  let chain: Chain
  let client: PublicClient
  let bundler: BundlerClient
  let contracts: {
    entryPoint: Address
    accountFactory: Address
    webAuthnValidator: Address
    sessionKeyValidator: Address
    sponsorPaymaster: Address
  }
  const funder = privateKeyToAccount(anvilKeys[0])
  const recipient: Address = '0x1111111111111111111111111111111111111111'

  beforeAll(async () => {
    stack = await startStack({ ports: 'auto', web: 'none', quiet: true })
    const { accountFactory, webAuthnValidator, sessionKeyValidator, sponsorPaymaster, entryPoint } =
      stack.contracts
    if (!accountFactory || !webAuthnValidator || !sessionKeyValidator || !sponsorPaymaster)
      throw new Error('the devnet lacks a contract')
    contracts = { entryPoint, accountFactory, webAuthnValidator, sessionKeyValidator, sponsorPaymaster }
    chain = defineChain({
      id: stack.chainId,
      name: 'SSO Devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    })
    client = createPublicClient({ chain, transport: http(stack.rpcUrl), pollingInterval: 50 }) as PublicClient
    bundler = createBundlerClient({
      client,
      chain,
      transport: http(stack.bundlerUrl),
      pollingInterval: 50,
      userOperation: { estimateFeesPerGas: estimateUserOperationFees },
    })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const wallet = () => createWalletClient({ chain, transport: http(stack.rpcUrl), account: funder })
  const transact = async (request: { to?: Address; data?: Hex; value?: bigint }) => {
    const receipt = await client.waitForTransactionReceipt({ hash: await wallet().sendTransaction(request) })
    expect(receipt.status).toBe('success')
    return receipt
  }
  /**
   * The paymaster of a userOp: the devnet's SponsorPaymaster through its ERC-7677 service (a verifying signature, as
   * a real deployment pays), or another instance with no signer (sponsors everything: empty data; no postOp).
   */
  const sponsor = (paymaster: Address) => {
    if (paymaster === contracts.sponsorPaymaster)
      return createPaymasterClient({ transport: http(stack.chains[0]!.paymasterServiceUrl!) })
    const data = async () => ({ paymaster, paymasterData: '0x' as Hex, paymasterPostOpGasLimit: 0n })
    return { getPaymasterStubData: data, getPaymasterData: data }
  }
  /** A fresh passkey account, funded with 10 ETH, not deployed. */
  const newAccount = async (accountFactory = contracts.accountFactory) => {
    const passkey = createTestPasskey()
    const account = await toSsoAccount({
      client,
      credential: passkey.credential,
      sign: passkey.sign,
      contracts: { ...contracts, accountFactory },
    })
    await transact({ to: account.address, value: parseEther('10') })
    return { passkey, account }
  }
  /** Prepares and signs a userOp (Alto estimates it), checks it against ERC-7562, then sends it through Alto. */
  const checkAndSend = async (
    account: SmartAccount,
    calls: Call[],
    options: { paymaster?: Address } = {},
  ) => {
    const prepared = await bundler.prepareUserOperation({
      account,
      calls,
      ...(options.paymaster ? { paymaster: sponsor(options.paymaster) } : {}),
    })
    const userOp = prepared as unknown as UserOperation<'0.8'>
    userOp.signature = await account.signUserOperation(userOp)
    const check = await checkUserOperation({ rpcUrl: stack.rpcUrl, userOp: toPackedUserOperation(userOp) })
    const hash = await bundler.request({
      method: 'eth_sendUserOperation',
      params: [formatUserOperationRequest(userOp), entryPoint08.address],
    })
    const receipt = await bundler.waitForUserOperationReceipt({ hash, pollingInterval: 50, timeout: 30_000 })
    expect(receipt.success).toBe(true)
    return check
  }
  const violationsOf = (check: Erc7562Check) => {
    expect(check.validated).toBe(true)
    return check.violations.map(({ description: _, ...violation }) => violation)
  }
  const entitiesOf = (check: Erc7562Check) => check.phases.map((phase) => phase.entity)
  // The deploying userOps write only the new account's own storage (its first passkey); the WebAuthnValidator's
  // credential index is written in execution only (docs/webauthn.md).
  const expectNoViolations = (check: Erc7562Check) =>
    expect(violationsOf(check), formatViolations(check.violations)).toEqual([])

  // Shared by the tests below, in order: the first deploys it, the later ones use it.
  let owner: { passkey: TestPasskey; account: SsoAccount }
  let sponsoredOwner: { passkey: TestPasskey; account: SsoAccount }

  test('behavior: the first passkey userOp (deploys the account), self-paid: no violation', async () => {
    owner = await newAccount()
    const check = await checkAndSend(owner.account, [{ to: recipient, value: 1n }])
    expect(entitiesOf(check)).toEqual(['factory', 'account'])
    expect(check.stakes.factory?.staked).toBe(true)
    expectNoViolations(check)
  })

  test('behavior: the first passkey userOp, sponsored by the SponsorPaymaster: no violation', async () => {
    sponsoredOwner = await newAccount()
    const check = await checkAndSend(sponsoredOwner.account, [{ to: recipient, value: 1n }], {
      paymaster: contracts.sponsorPaymaster,
    })
    expect(entitiesOf(check)).toEqual(['factory', 'account', 'paymaster'])
    expect(check.stakes.paymaster?.staked).toBe(true)
    expectNoViolations(check)
    // It was the service's signature that made the paymaster pay: the devnet's paymaster has a verifying signer.
    expect(
      await client.readContract({
        address: contracts.sponsorPaymaster,
        abi: sponsorPaymasterAbi,
        functionName: 'verifyingSigner',
      }),
    ).not.toBe('0x0000000000000000000000000000000000000000')
  })

  test('behavior: a later passkey userOp, self-paid: no violation', async () => {
    const check = await checkAndSend(owner.account, [{ to: recipient, value: 1n }])
    expect(entitiesOf(check)).toEqual(['account'])
    expect(violationsOf(check), formatViolations(check.violations)).toEqual([])
  })

  test('behavior: a later passkey userOp, sponsored: no violation', async () => {
    const check = await checkAndSend(sponsoredOwner.account, [{ to: recipient, value: 1n }], {
      paymaster: contracts.sponsorPaymaster,
    })
    expect(entitiesOf(check)).toEqual(['account', 'paymaster'])
    expect(violationsOf(check), formatViolations(check.violations)).toEqual([])
  })

  /** A session on `owner` that may send at most 0.01 ETH per transfer to `recipient` (1 ETH over its life). */
  const newSession = async (owner: SsoAccount) => {
    const signer = await createSecp256k1SessionSigner({ store: createMemoryKeyStore() })
    const now = Number((await client.getBlock({ blockTag: 'latest' })).timestamp)
    const spec: SessionSpec = {
      signer: signer.publicKey,
      expiresAt: now + 3600,
      feeLimit: lifetime(parseEther('1')),
      callPolicies: [],
      transferPolicies: [
        transferPolicy({
          target: recipient,
          maxValuePerUse: parseEther('0.01'),
          valueLimit: lifetime(parseEther('1')),
        }),
      ],
    }
    const create: Call = {
      to: contracts.sessionKeyValidator,
      data: encodeFunctionData({
        abi: sessionKeyValidatorAbi,
        functionName: 'createSession',
        args: [encodeSessionSpec(spec)],
      }),
    }
    const session = await toSessionAccount({
      client,
      address: owner.address,
      spec,
      signer,
      validator: contracts.sessionKeyValidator,
    })
    return { create, session }
  }
  let selfPaidSession: SmartAccount
  let sponsoredSession: SmartAccount

  test('behavior: creating a session (passkey userOp), self-paid: no violation', async () => {
    const { create, session } = await newSession(owner.account)
    const check = await checkAndSend(owner.account, [create])
    expect(entitiesOf(check)).toEqual(['account'])
    expect(violationsOf(check), formatViolations(check.violations)).toEqual([])
    selfPaidSession = session
  })

  test('behavior: creating a session, sponsored: no violation', async () => {
    const { create, session } = await newSession(sponsoredOwner.account)
    const check = await checkAndSend(sponsoredOwner.account, [create], {
      paymaster: contracts.sponsorPaymaster,
    })
    expect(entitiesOf(check)).toEqual(['account', 'paymaster'])
    expect(violationsOf(check), formatViolations(check.violations)).toEqual([])
    sponsoredSession = session
  })

  test('behavior: using a session (SessionKeyValidator signature), self-paid: no violation', async () => {
    for (let use = 0; use < 2; use++) {
      // The first use writes the session's counters, the second updates them.
      const check = await checkAndSend(selfPaidSession, [{ to: recipient, value: 1000n }])
      expect(entitiesOf(check)).toEqual(['account'])
      expect(violationsOf(check), formatViolations(check.violations)).toEqual([])
    }
  })

  test('behavior: using a session, sponsored: no violation', async () => {
    for (let use = 0; use < 2; use++) {
      const check = await checkAndSend(sponsoredSession, [{ to: recipient, value: 1000n }], {
        paymaster: contracts.sponsorPaymaster,
      })
      expect(entitiesOf(check)).toEqual(['account', 'paymaster'])
      expect(violationsOf(check), formatViolations(check.violations)).toEqual([])
    }
  })

  /** Deploys a second instance of one of our contracts (same constructor arguments, plain CREATE): unstaked. */
  const deployUnstaked = async (key: 'accountFactory' | 'sponsorPaymaster') => {
    const deployment = resolveDeployments({ entryPoint: entryPoint08.address, owner: devnetOwner }).find(
      (d) => d.key === key,
    )
    if (!deployment) throw new Error(`no ${key} in the deployment plan`)
    const receipt = await transact({ data: deployment.initCode })
    if (!receipt.contractAddress) throw new Error(`${key} not deployed`)
    return getAddress(receipt.contractAddress)
  }
  const entryPointAbi = parseAbi(['function depositTo(address account) payable'])
  const stakeAbi = parseAbi(['function addStake(uint32 unstakeDelaySec) payable'])

  test('error: an unstaked paymaster reads its own storage (STO-031); staked, it may', async () => {
    const paymaster = await deployUnstaked('sponsorPaymaster')
    await transact({
      to: contracts.entryPoint,
      data: encodeFunctionData({ abi: entryPointAbi, functionName: 'depositTo', args: [paymaster] }),
      value: parseEther('10'),
    })
    const check = await checkAndSend(owner.account, [{ to: recipient, value: 1n }], { paymaster })
    expect(check.stakes.paymaster?.staked).toBe(false)
    // SignerECDSA's signer, slot 2 of the SponsorPaymaster (read to learn whether to check a signature).
    expect(violationsOf(check)).toEqual([
      {
        rule: 'STO-031',
        entity: 'paymaster',
        entityAddress: paymaster,
        contract: paymaster,
        opcode: 'SLOAD',
        slot: numberToHex(2, { size: 32 }),
      },
    ])
    expect(check.violations[0]!.description).toContain(
      'unstaked (stake 0 wei, unstake delay 0 s) paymaster reads',
    )

    await transact({
      to: paymaster,
      data: encodeFunctionData({ abi: stakeAbi, functionName: 'addStake', args: [86_400] }),
      value: parseEther('1'),
    })
    const staked = await checkAndSend(owner.account, [{ to: recipient, value: 1n }], { paymaster })
    expect(violationsOf(staked)).toEqual([])
  })

  test('behavior: an unstaked factory deploys an account: its first passkey is stored in the account itself (no STO-022)', async () => {
    const factory = await deployUnstaked('accountFactory')
    const { account } = await newAccount(factory)
    const check = await checkAndSend(account, [{ to: recipient, value: 1n }])
    expect(check.stakes.factory?.staked).toBe(false)
    // WebAuthnValidator.onInstall writes the passkey to the account (docs/webauthn.md, "Where passkeys are
    // stored") and the account's validation reads its own storage: nothing associated with the account is touched
    // in another contract, so the factory needs no stake for ERC-7562.
    expect(entitiesOf(check)).toEqual(['factory', 'account'])
    expect(violationsOf(check), formatViolations(check.violations)).toEqual([])
  })
})
