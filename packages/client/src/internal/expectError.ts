/**
 * Test helpers (unit tests only): assert an error the way a dapp meets it — its class, its EIP code and the
 * message a user would read.
 */
import { expect } from 'vitest'
import type { RpcError } from '../Errors.js'

// biome-ignore lint/suspicious/noExplicitAny: any constructor signature
type ErrorClass = abstract new (...args: any[]) => RpcError

/**
 * Asserts that `error` is an instance of `Class` with `code` and `message` (its `shortMessage`: the whole text
 * when a string, matched when a RegExp).
 *
 * @example
 * ```ts
 * expectRpcError(await rejectionOf(provider.request(args)), InvalidParamsError, -32602, /chainId/)
 * ```
 */
export function expectRpcError(error: unknown, Class: ErrorClass, code: number, message: string | RegExp) {
  expect(error).toBeInstanceOf(Class)
  const { code: actual, shortMessage } = error as RpcError
  expect(actual).toBe(code)
  if (typeof message === 'string') expect(shortMessage).toBe(message)
  else expect(shortMessage).toMatch(message)
}

/** What `promise` rejects with; fails the test when it resolves. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(
        `Expected a rejection, got ${typeof value === 'bigint' ? value : JSON.stringify(value)}`,
      )
    },
    (error: unknown) => error,
  )
}

/** What `fn` throws; fails the test when it returns. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('Expected a throw, but the function returned')
}
