/**
 * Entry for the auth server's popup (`@sso/client/popup`): the popup end of the messenger plus the protocol
 * schema and errors it needs. Kept separate from the dapp entry so neither side bundles the other.
 */

export * as Errors from '../Errors.js'
export {
  createPopupMessenger,
  type PopupMessenger,
  type PopupMessengerOptions,
  type PopupWindow,
  type RequestContext,
} from '../Messenger.js'
export * as RpcSchema from '../RpcSchema.js'
