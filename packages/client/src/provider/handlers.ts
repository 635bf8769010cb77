/**
 * The routing table: one handler per RPC method the provider answers (docs/architecture.md, section 6).
 */
import { getCallsStatus } from './callsStatus.js'
import { chainId, getCapabilities, switchChain } from './chain.js'
import { accounts, disconnect, requestAccounts } from './connect.js'
import {
  getGrantedExecutionPermissions,
  getSupportedExecutionPermissions,
  requestExecutionPermissions,
  revokeExecutionPermission,
} from './executionPermissions.js'
import { forward, forwardedMethods } from './forward.js'
import { getModules, installModule, isModuleInstalled, uninstallModule } from './modules.js'
import { grantPermissions, revokePermissions } from './permissions.js'
import { sendCalls, showCallsStatus } from './sendCalls.js'
import { sendTransaction } from './sendTransaction.js'
import { personalSign, signTypedData } from './sign.js'
import type { Handler } from './types.js'

export const handlers: Readonly<Record<string, Handler>> = {
  // connection and chain
  eth_requestAccounts: requestAccounts,
  eth_accounts: accounts,
  eth_chainId: chainId,
  wallet_switchEthereumChain: switchChain,
  wallet_disconnect: disconnect,
  wallet_getCapabilities: getCapabilities,
  // the popup: passkey approvals
  eth_sendTransaction: sendTransaction,
  wallet_sendCalls: sendCalls,
  wallet_showCallsStatus: showCallsStatus,
  personal_sign: personalSign,
  eth_signTypedData_v4: signTypedData,
  // sessions: ERC-7715, and the older names (deprecated)
  wallet_requestExecutionPermissions: requestExecutionPermissions,
  wallet_revokeExecutionPermission: revokeExecutionPermission,
  wallet_getSupportedExecutionPermissions: getSupportedExecutionPermissions,
  wallet_getGrantedExecutionPermissions: getGrantedExecutionPermissions,
  wallet_grantPermissions: grantPermissions,
  wallet_revokePermissions: revokePermissions,
  // modules (docs/modules.md)
  wallet_installModule: installModule,
  wallet_uninstallModule: uninstallModule,
  wallet_getModules: getModules,
  wallet_isModuleInstalled: isModuleInstalled,
  // the bundler and the chain
  wallet_getCallsStatus: getCallsStatus,
  ...Object.fromEntries(forwardedMethods.map((method) => [method, forward(method)])),
}

/** The handler of `method`, if the provider answers it. */
export function handlerOf(method: string): Handler | undefined {
  return Object.hasOwn(handlers, method) ? handlers[method] : undefined
}
