/**
 * The auth server's errors, on the client's root (`Errors.BaseError` / `Errors.RpcError`, docs/architecture.md,
 * section 7).
 */
import { Errors } from '@sso/client/popup'

/**
 * Thrown when an account operation fails for a reason the user should read: an RPC error (`code`, `data` for the
 * dapp) whose message is written for people, so the cause is kept but not appended.
 */
export class AccountError extends Errors.RpcError {
  override name = 'AccountError'
  constructor(message: string, code = -32603, options: { cause?: unknown; data?: unknown } = {}) {
    super(code, message, { ...options, details: '' })
  }
}

/**
 * The first line of a thrown value's message, for a one-line error on screen (viem's messages go on with details).
 *
 * @example
 * ```ts
 * errorLine(new Error('Execution reverted.\n\nDetails: …')) // 'Execution reverted.'
 * ```
 */
export function errorLine(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message
  return typeof message === 'string' ? (message.split('\n')[0] ?? message) : String(error)
}
