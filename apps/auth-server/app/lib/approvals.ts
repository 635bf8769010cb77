/**
 * What Approve does for each popup method (docs/architecture.md, section 4): a table from method to the work that
 * signs with the passkey, sends, and returns the answer for the dapp. The requests store runs it (progress, errors,
 * the queue); this module only knows the methods. A new method is a new row.
 */
import { Errors, type PopupMessenger, type RpcSchema } from '@sso/client/popup'
import type { Address, Hex } from 'viem'
import { recordAppSession, recordAppUserOp } from '~/lib/appRecords'
import type { SsoChainConfig } from '~/lib/config'
import { moduleChangeCall, moduleChangeRefusal } from '~/lib/modules'
import { callsOf, capabilitiesOf, type PopupRequest, typedDataOf } from '~/lib/popupRequest'
import {
  chainNow,
  checkSpec,
  checkSpecTargetsOnChain,
  createSession,
  revokeSession,
  sessionApproval,
} from '~/lib/sessions'
import {
  gasPayer,
  type PreparedCalls,
  type SignedOperation,
  sendCalls,
  waitForUserOperation,
} from '~/lib/userOperations'
import { useAccountStore } from '~/stores/account'
import type { PendingRequest } from '~/stores/requests'

/** What an approval works with, from the requests store. */
export type ApprovalContext = {
  entry: PendingRequest
  /** The request's chain, the one on screen (`refusalOf` made sure the params name no other). */
  chain: SsoChainConfig
  /** The dapp's origin (browser-provided). */
  origin: string | undefined
  messenger: PopupMessenger | undefined
  /** The transaction built while the screen was read; a failed or stale one is built again (and its error shown). */
  prepared: Promise<PreparedCalls | undefined> | undefined
  /** Throws when the dapp that asked went away: called right before the passkey signs. */
  guard(): void
  /** The answer to a connect request. */
  connect(): () => void
  /** Remembers that the dapp is connected to `address`. */
  recordConnected(address: Address): void
}

/** The answer for the dapp, given once the work succeeded. */
type Answer = () => void

type Approvals = {
  [M in PopupRequest['method']]: (
    request: Extract<PopupRequest, { method: M }>,
    context: ApprovalContext,
  ) => Promise<Answer>
}

/**
 * Approves a request: signs with the passkey, sends, and returns the answer. Throws what the user should see.
 *
 * @example
 * ```ts
 * const answer = await approveRequest(entry.request, context)
 * answer() // responds to the dapp
 * ```
 */
export function approveRequest(request: PopupRequest, context: ApprovalContext): Promise<Answer> {
  const approval = approvals[request.method] as
    | ((request: PopupRequest, context: ApprovalContext) => Promise<Answer>)
    | undefined
  if (!approval)
    throw new Errors.MethodNotFoundError(
      `The popup does not handle "${(request as { method: string }).method}".`,
    )
  return approval(request, context)
}

// Signed and about to be sent: from now on the dapp gets the result even if this window closes mid-request
// (docs/architecture.md, section 4). The dashboard's app records learn of the userOp (and the session) too.
function submitted(
  request: PopupRequest,
  context: ApprovalContext,
  sent: { account: Address; userOpHash: Hex; signed?: SignedOperation; sessionId?: Hex },
) {
  const { account, userOpHash, signed, sessionId } = sent
  if (context.origin) {
    if (sessionId) recordAppSession(context.origin, account, context.chain.id, sessionId)
    recordAppUserOp(context.origin, account, context.chain.id, userOpHash)
  }
  context.messenger?.submitted(request, {
    userOpHash,
    account,
    ...(sessionId ? { sessionId } : {}),
    ...signed,
  })
}

// Asks for the passkey once the userOp is built, unless the dapp went away meanwhile.
function onSign(context: ApprovalContext) {
  return () => {
    context.guard()
    context.entry.step = 'Waiting for your passkey…'
  }
}

async function sign(
  request: Extract<PopupRequest, { method: 'personal_sign' | 'eth_signTypedData_v4' }>,
  context: ApprovalContext,
): Promise<Answer> {
  context.entry.step = 'Waiting for your passkey…'
  const account = await useAccountStore().smartAccount(context.chain)
  context.guard()
  const signature =
    request.method === 'personal_sign'
      ? await account.signMessage({ message: { raw: request.params[0] } })
      : await account.signTypedData(typedDataOf(request.params[1]))
  return () => context.messenger?.respond(request, signature)
}

async function transaction(
  request: Extract<PopupRequest, { method: 'eth_sendTransaction' | 'wallet_sendCalls' }>,
  context: ApprovalContext,
): Promise<Answer> {
  const { chain, entry } = context
  const account = await useAccountStore().smartAccount(chain)
  entry.step = 'Checking the transaction…'
  const hash = await sendCalls(
    {
      chain,
      account,
      calls: callsOf(request),
      payer: gasPayer(chain, capabilitiesOf(request)),
      app: context.origin,
      onSign: onSign(context),
      onSending: (userOpHash, signed) =>
        submitted(request, context, { account: account.address, userOpHash, signed }),
    },
    context.prepared,
  )
  if (request.method === 'wallet_sendCalls') return () => context.messenger?.respond(request, { id: hash })
  entry.step = 'Waiting for the transaction…'
  const receipt = await waitForUserOperation(chain, hash)
  return () => context.messenger?.respond(request, receipt.receipt.transactionHash)
}

async function moduleChange(
  request: Extract<PopupRequest, { method: 'wallet_installModule' | 'wallet_uninstallModule' }>,
  context: ApprovalContext,
): Promise<Answer> {
  const { chain, entry } = context
  const action = request.method === 'wallet_installModule' ? 'install' : 'uninstall'
  const [change] = request.params as [RpcSchema.ModuleChange]
  const account = await useAccountStore().smartAccount(chain)
  entry.step = 'Checking the module…'
  const refusal = await moduleChangeRefusal(chain, account.address, action, change)
  if (refusal) {
    entry.refused = true
    throw refusal
  }
  const hash = await sendCalls({
    chain,
    account,
    calls: [moduleChangeCall(action, account.address, change)],
    payer: gasPayer(chain),
    onSign: onSign(context),
  })
  context.messenger?.submitted(request, { userOpHash: hash, account: account.address })
  entry.step = 'Waiting for the transaction…'
  const receipt = await waitForUserOperation(chain, hash)
  return () => context.messenger?.respond(request, { transactionHash: receipt.receipt.transactionHash })
}

const approvals: Approvals = {
  eth_requestAccounts: async (_, context) => context.connect(),
  wallet_showCallsStatus: async (request, context) => () => context.messenger?.respond(request, null),
  personal_sign: sign,
  eth_signTypedData_v4: sign,
  eth_sendTransaction: transaction,
  wallet_sendCalls: transaction,
  wallet_installModule: moduleChange,
  wallet_uninstallModule: moduleChange,

  async wallet_grantPermissions(request, context) {
    const { chain, entry } = context
    const accountStore = useAccountStore()
    if (!accountStore.account)
      throw new Errors.UnauthorizedError('Sign up or log in first: no SSO account in this popup.')
    if (sessionApproval.needsAck && !sessionApproval.ack)
      throw new Errors.InvalidParamsError('Tick the acknowledgement box to allow this session.')
    const spec = checkSpec(request.params[0].spec, {
      chain,
      account: accountStore.account.address,
      now: await chainNow(chain),
    })
    await checkSpecTargetsOnChain(spec, { chain, account: accountStore.account.address })
    const account = await accountStore.smartAccount(chain)
    entry.step = 'Waiting for your passkey…'
    context.guard()
    const created = await createSession({
      chain,
      account,
      spec,
      onSending: (userOpHash, sessionId, signed) =>
        submitted(request, context, { account: account.address, userOpHash, signed, sessionId }),
    })
    const result = { ...created, account: account.address, chainId: chain.id }
    return () => {
      context.recordConnected(account.address)
      context.messenger?.respond(request, result)
    }
  },

  async wallet_revokePermissions(request, context) {
    const account = await useAccountStore().smartAccount(context.chain)
    context.entry.step = 'Waiting for your passkey…'
    context.guard()
    const result = await revokeSession({
      chain: context.chain,
      account,
      which: request.params[0],
      onSending: (userOpHash, signed) =>
        submitted(request, context, { account: account.address, userOpHash, signed }),
    })
    return () => context.messenger?.respond(request, result)
  },
}
