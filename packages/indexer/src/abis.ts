/**
 * The events the indexer reads: the same as the node-logs source's (docs/dashboard.md, "History"). Event names
 * must be unique inside one contract's ABI: the three modules share one.
 */
import {
  accountFactoryAbi,
  guardianExecutorAbi,
  sessionKeyValidatorAbi,
  ssoAccountAbi,
  webAuthnValidatorAbi,
} from '@sso/contracts-abi'
import { type AbiEvent, erc20Abi } from 'viem'
import { entryPoint08Abi } from 'viem/account-abstraction'

const events = (abi: readonly unknown[], names?: readonly string[]) =>
  (abi as readonly { type: string; name?: string }[]).filter(
    (item) => item.type === 'event' && (!names || names.includes(item.name ?? '')),
  ) as AbiEvent[]

export const entryPointEvents = events(entryPoint08Abi, ['UserOperationEvent', 'UserOperationRevertReason'])
export const accountFactoryEvents = events(accountFactoryAbi, ['AccountCreated']) as [AbiEvent]
export const accountEvents = events(ssoAccountAbi, ['ModuleInstalled', 'ModuleUninstalled'])
export const moduleEvents = [
  ...events(sessionKeyValidatorAbi),
  ...events(webAuthnValidatorAbi),
  ...events(guardianExecutorAbi),
].filter((event, i, all) => all.findIndex((other) => other.name === event.name) === i)
export const transferEvent = events(erc20Abi, ['Transfer'])
