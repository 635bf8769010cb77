import { describe, expect, test } from 'vitest'
import {
  BaseError,
  ConflictingParamsError,
  deserializeError,
  InternalError,
  InvalidParamsError,
  PopupBlockedError,
  RpcError,
  serializeError,
  TimeoutError,
  UnknownBundleIdError,
  UnknownChainError,
  UserRejectedRequestError,
} from './Errors.js'

describe('Errors', () => {
  test('behavior: RPC errors carry EIP codes and the base fields', () => {
    const error = new UserRejectedRequestError(undefined, { details: 'closed the popup' })
    expect(error).toBeInstanceOf(RpcError)
    expect(error).toBeInstanceOf(BaseError)
    expect(error.code).toBe(4001)
    expect(UserRejectedRequestError.code).toBe(4001)
    expect(error.name).toBe('UserRejectedRequestError')
    expect(error.shortMessage).toBe('The user rejected the request.')
    expect(error.details).toBe('closed the popup')
    expect(error.message).toContain('Details: closed the popup')
    expect(new UnknownChainError().code).toBe(4902)
    expect(new InvalidParamsError().code).toBe(-32602)
    expect(new UnknownBundleIdError().code).toBe(5730)
  })

  test('behavior: the base error carries details, cause and the docs page; the short message crosses alone', () => {
    const cause = new Error('socket hang up')
    const error = new RpcError(-32603, 'The bundler failed.', {
      cause,
      docsPath: 'docs/interfaces.md#popup-protocol',
    })
    expect(error).toMatchObject({
      shortMessage: 'The bundler failed.',
      details: 'socket hang up',
      docsPath: 'docs/interfaces.md#popup-protocol',
      cause,
    })
    expect(error.message).toBe(
      'The bundler failed.\n\nDetails: socket hang up\n\nDocs: docs/interfaces.md#popup-protocol',
    )
    expect(serializeError(error)).toEqual({ code: -32603, message: 'The bundler failed.' })
    expect(new BaseError('Short.').message).toBe('Short.')
  })

  test('behavior: errors round-trip through structured clone (postMessage)', () => {
    const original = new InvalidParamsError('bad params', { data: { field: 'to', big: 1n } })
    const cloned = structuredClone(serializeError(original))
    expect(cloned).toEqual({ code: -32602, message: 'bad params', data: { field: 'to', big: '1' } })
    const rebuilt = deserializeError(cloned)
    expect(rebuilt).toBeInstanceOf(InvalidParamsError)
    expect(rebuilt.code).toBe(-32602)
    expect(rebuilt.shortMessage).toBe('bad params')
    expect(rebuilt.data).toEqual({ field: 'to', big: '1' })
    const rejected = deserializeError(structuredClone(serializeError(new UserRejectedRequestError())))
    expect(rejected).toBeInstanceOf(UserRejectedRequestError)
  })

  test('behavior: unknown values serialize to -32603 without leaking stacks', () => {
    expect(serializeError(new Error('boom'))).toEqual({ code: -32603, message: 'boom' })
    expect(serializeError('nope')).toEqual({ code: -32603, message: 'nope' })
    expect(serializeError({ code: 4001, message: 'x', data: () => 1 })).toEqual({ code: 4001, message: 'x' })
    expect(serializeError(undefined)).toEqual({ code: -32603, message: 'Internal error.' })
    const unknown = deserializeError({ code: 1234, message: 'custom' })
    expect(unknown).toBeInstanceOf(RpcError)
    expect(unknown.code).toBe(1234)
    expect(deserializeError({ code: -32603, message: 'x' })).toBeInstanceOf(InternalError)
  })

  test('error: popup blocked and timeout errors explain themselves', () => {
    const blocked = new PopupBlockedError()
    expect(blocked.code).toBe(-32603)
    expect(blocked.message).toMatch(/click handler/)
    const timeout = new TimeoutError(1000)
    expect(timeout.shortMessage).toMatch(/1000 ms/)
    expect(timeout.data).toEqual({ reason: 'timeout', timeout: 1000 })
  })

  test('error: a ConflictingParamsError crosses postMessage with its class, code, message and fields', () => {
    const original = new ConflictingParamsError(
      'chains',
      { field: 'request.chainId', value: '31337' },
      { field: 'params[0].chainId', value: '0x7a6a (31338)' },
    )
    const message =
      'Conflicting chains in the request: request.chainId is 31337 but params[0].chainId is 0x7a6a (31338).'
    expect(original.shortMessage).toBe(message)
    const rebuilt = deserializeError(structuredClone(serializeError(original)))
    expect(rebuilt).toBeInstanceOf(ConflictingParamsError)
    expect(rebuilt).toBeInstanceOf(InvalidParamsError)
    expect(rebuilt.code).toBe(-32602)
    expect(rebuilt.shortMessage).toBe(message)
    expect((rebuilt as ConflictingParamsError).fields).toEqual(original.fields)
    // A message that does not match its fields stays a plain InvalidParamsError with the message it came with.
    const forged = deserializeError({ ...serializeError(original), message: 'Everything is fine.' })
    expect(forged).not.toBeInstanceOf(ConflictingParamsError)
    expect(forged).toBeInstanceOf(InvalidParamsError)
    expect(forged.shortMessage).toBe('Everything is fine.')
  })
})
