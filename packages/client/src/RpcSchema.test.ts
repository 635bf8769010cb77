import * as v from 'valibot'
import { describe, expect, test } from 'vitest'
import {
  ConflictingParamsError,
  InvalidParamsError,
  InvalidRequestError,
  MethodNotFoundError,
} from './Errors.js'
import { expectRpcError } from './internal/expectError.js'
import {
  duplicatedFields,
  findConflict,
  PopupMessage,
  type PopupRequest,
  parseParams,
  parseRequest,
  parseResult,
  type popupMethods,
  Response,
} from './RpcSchema.js'

const address = '0x1111111111111111111111111111111111111111'
const hash = `0x${'ab'.repeat(32)}` as const
const typedData = {
  domain: { name: 'Test', version: '1', chainId: 31337, verifyingContract: address },
  types: { Mail: [{ name: 'contents', type: 'string' }] },
  primaryType: 'Mail',
  message: { contents: 'hi' },
}

const valid: { [method in keyof typeof popupMethods]: unknown } = {
  eth_requestAccounts: [],
  eth_sendTransaction: [{ from: address, to: address, value: '0x1', data: '0x', gas: '0x5208' }],
  wallet_sendCalls: [
    {
      version: '2.0.0',
      chainId: '0x7a69',
      from: address,
      atomicRequired: true,
      calls: [{ to: address, data: '0x' }],
    },
  ],
  wallet_showCallsStatus: [hash],
  personal_sign: ['0x68656c6c6f', address],
  eth_signTypedData_v4: [address, JSON.stringify(typedData)],
  wallet_grantPermissions: [
    {
      spec: {
        signer: address,
        expiresAt: 2_000_000_000,
        feeLimit: { type: 'lifetime', limit: '0x1' },
        callPolicies: [
          {
            target: address,
            selector: '0xa9059cbb',
            maxValuePerUse: '0x0',
            valueLimit: { type: 'unlimited' },
            constraints: [{ condition: 'equal', index: 0, refValue: hash, limit: { type: 'unlimited' } }],
          },
        ],
        transferPolicies: [
          {
            target: address,
            maxValuePerUse: '0x1',
            valueLimit: { type: 'allowance', limit: '0x2', period: 3600 },
          },
        ],
      },
    },
  ],
  wallet_revokePermissions: [{ id: hash }],
  wallet_installModule: [{ type: 'executor', address, data: '0x1234', from: address }],
  wallet_uninstallModule: [{ type: 'validator', address }],
}

const malformed: { [method in keyof typeof popupMethods]: unknown[] } = {
  eth_requestAccounts: ['x', {}],
  eth_sendTransaction: [[], [{ to: 'nope' }], [{ from: address }], [{ to: address, value: 10 }], 'x'],
  wallet_sendCalls: [
    [{ version: '2.0.0', chainId: '0x7a69', atomicRequired: true, calls: [] }],
    [{ version: '2.0.0', chainId: 31337, atomicRequired: true, calls: [{ to: address }] }],
    [{ version: '2.0.0', chainId: '0x1', calls: [{ to: address }] }],
    [],
  ],
  wallet_showCallsStatus: [[], [''], [1]],
  personal_sign: [['hello', address], ['0x00'], ['0x00', '0x12'], {}],
  eth_signTypedData_v4: [
    [address, '{not json'],
    [address, { types: {} }],
    ['nope', JSON.stringify(typedData)],
  ],
  wallet_grantPermissions: [
    [],
    [{ spec: {} }],
    [
      {
        spec: {
          signer: address,
          expiresAt: -1,
          feeLimit: { type: 'unlimited' },
          callPolicies: [],
          transferPolicies: [],
        },
      },
    ],
    [
      {
        spec: {
          signer: address,
          expiresAt: 1,
          feeLimit: { type: 'allowance', limit: '0x1' },
          callPolicies: [],
          transferPolicies: [],
        },
      },
    ],
  ],
  wallet_revokePermissions: [[], [{ id: '0x12' }], [{ all: false }]],
  wallet_installModule: [
    [],
    [{ type: 'plugin', address }],
    [{ type: 'executor', address: '0x12' }],
    [{ type: 'executor', address, data: 'zz' }],
    [{ type: 'executor', address, extra: 1 }],
  ],
  wallet_uninstallModule: [[{ address }], [{ type: 'validator' }], {}],
}

describe('RpcSchema', () => {
  test('behavior: every popup method accepts well-formed params', () => {
    for (const [method, params] of Object.entries(valid)) {
      const parsed = parseRequest({ id: '1', method, params, chainId: 31337 })
      expect(parsed.success, method).toBe(true)
    }
    const typed = parseParams('eth_signTypedData_v4', [address, JSON.stringify(typedData)])
    expect(typed.success && typed.params[1].primaryType).toBe('Mail')
    expect(parseRequest({ id: '1', method: 'eth_requestAccounts', chainId: 1 }).success).toBe(true)
  })

  test('error: every popup method rejects malformed params with -32602', () => {
    for (const [method, cases] of Object.entries(malformed)) {
      for (const params of cases) {
        const parsed = parseRequest({ id: 'x', method, params, chainId: 31337 })
        expect(parsed.success, `${method} ${JSON.stringify(params)}`).toBe(false)
        if (!parsed.success) {
          expect(parsed.id).toBe('x')
          expect(parsed.error).toBeInstanceOf(InvalidParamsError)
          expect(parsed.error.code).toBe(-32602)
        }
      }
    }
  })

  test('error: unknown methods give -32601, broken envelopes -32600', () => {
    const unknown = parseRequest({ id: 'a', method: 'eth_sign', params: [], chainId: 1 })
    expect(!unknown.success && unknown.error).toBeInstanceOf(MethodNotFoundError)
    const proto = parseRequest({ id: 'a', method: 'toString', params: [], chainId: 1 })
    expect(!proto.success && proto.error).toBeInstanceOf(MethodNotFoundError)
    for (const data of [
      null,
      'x',
      1,
      {},
      { id: 'a' },
      { id: 'a', method: 'personal_sign', chainId: 0 },
      { id: '' },
    ]) {
      const parsed = parseRequest(data)
      expect(parsed.success).toBe(false)
      if (!parsed.success) expect(parsed.error).toBeInstanceOf(InvalidRequestError)
    }
    const noChain = parseRequest({ id: 'a', method: 'personal_sign', params: [] })
    expect(!noChain.success && noChain.id).toBe('a')
  })

  test('behavior: results are validated', () => {
    expect(parseResult('eth_requestAccounts', { accounts: [address], chainId: 31337 }).success).toBe(true)
    expect(parseResult('eth_requestAccounts', { accounts: [], chainId: 31337 }).success).toBe(false)
    expect(parseResult('eth_sendTransaction', hash).success).toBe(true)
    expect(parseResult('eth_sendTransaction', '0x12').success).toBe(false)
    expect(parseResult('wallet_sendCalls', { id: hash }).success).toBe(true)
    expect(parseResult('personal_sign', 'sig').success).toBe(false)
  })

  test('behavior: popup messages parse as ready, closing and responses', () => {
    expect(v.is(PopupMessage, { type: 'ready' })).toBe(true)
    expect(v.is(PopupMessage, { type: 'closing' })).toBe(true)
    expect(v.is(Response, { id: '1', result: null })).toBe(true)
    expect(v.is(Response, { id: '1', error: { code: 4001, message: 'no' } })).toBe(true)
    expect(v.is(PopupMessage, { id: '1' })).toBe(false)
    expect(v.is(PopupMessage, { id: '1', error: { code: 'x', message: 'no' } })).toBe(false)
    expect(v.is(PopupMessage, { type: 'other' })).toBe(false)
  })
})

describe('findConflict: one value, one place', () => {
  const other = '0x2222222222222222222222222222222222222222'
  const request = (method: string, params: unknown, chainId = 31337) => {
    const parsed = parseRequest({ id: 'r', method, params, chainId })
    if (!parsed.success) throw parsed.error
    return parsed.request as PopupRequest
  }
  const sendCalls = (chainId: string) => [
    { version: '2.0.0', chainId, atomicRequired: true, calls: [{ to: address, value: '0x1' }] },
  ]
  const typed = (chainId: unknown) => [address, { ...typedData, domain: { ...typedData.domain, chainId } }]

  test('behavior: requests whose places agree (or state a value once) pass', () => {
    for (const [method, params] of Object.entries(valid))
      expect(findConflict(request(method, params)), method).toBeUndefined()
    expect(findConflict(request('wallet_sendCalls', sendCalls('0x7a69')))).toBeUndefined()
    expect(findConflict(request('wallet_sendCalls', sendCalls('0x0000007A69')))).toBeUndefined()
    for (const chainId of [31337, '31337', '0x7a69', '0x7A69', undefined])
      expect(findConflict(request('eth_signTypedData_v4', typed(chainId))), String(chainId)).toBeUndefined()
    const noDomain = { ...typedData, domain: undefined }
    expect(findConflict(request('eth_signTypedData_v4', [address, noDomain]))).toBeUndefined()
    const tx = { to: other, chainId: '0x7a69', data: '0xabcd', input: '0xABCD', value: '0x5' }
    expect(findConflict(request('eth_sendTransaction', [tx]))).toBeUndefined()
  })

  test('error: wallet_sendCalls whose params[0].chainId is not request.chainId -> ConflictingParamsError', () => {
    const error = findConflict(request('wallet_sendCalls', sendCalls('0x7a6a')))
    expectRpcError(
      error,
      ConflictingParamsError,
      -32602,
      'Conflicting chains in the request: request.chainId is 31337 but params[0].chainId is 0x7a6a (31338).',
    )
    expect(error).toBeInstanceOf(InvalidParamsError)
    expect((error as ConflictingParamsError).fields).toEqual([
      { field: 'request.chainId', value: '31337' },
      { field: 'params[0].chainId', value: '0x7a6a (31338)' },
    ])
    expect((error as ConflictingParamsError).data).toEqual({
      reason: 'conflicting_params',
      what: 'chains',
      fields: (error as ConflictingParamsError).fields,
    })
  })

  test('error: eth_sendTransaction whose params[0].chainId is not request.chainId -> ConflictingParamsError', () => {
    expectRpcError(
      findConflict(request('eth_sendTransaction', [{ to: other, value: '0x1', chainId: '0x1' }], 31338)),
      ConflictingParamsError,
      -32602,
      'Conflicting chains in the request: request.chainId is 31338 but params[0].chainId is 0x1 (1).',
    )
  })

  test('error: eth_sendTransaction whose params[0].data is not params[0].input -> ConflictingParamsError', () => {
    const long = `0xa9059cbb${'00'.repeat(12)}${other.slice(2)}${'00'.repeat(31)}01` as const
    expectRpcError(
      findConflict(request('eth_sendTransaction', [{ to: other, data: '0x1234', input: long }])),
      ConflictingParamsError,
      -32602,
      'Conflicting calldata in the request: params[0].data is 0x1234 but params[0].input is 0xa9059cbb00000000…00000001 (68 bytes).',
    )
  })

  test('error: eth_signTypedData_v4 whose params[1].domain.chainId is not request.chainId -> ConflictingParamsError', () => {
    for (const [chainId, value] of [
      [1, '1'],
      ['31338', '31338'],
      ['0x7a6a', '0x7a6a (31338)'],
    ] as const)
      expectRpcError(
        findConflict(request('eth_signTypedData_v4', typed(chainId))),
        ConflictingParamsError,
        -32602,
        `Conflicting chains in the request: request.chainId is 31337 but params[1].domain.chainId is ${value}.`,
      )
    // Sent as a JSON string (viem, MetaMask convention): parsed first, then compared.
    const json = [address, JSON.stringify({ ...typedData, domain: { ...typedData.domain, chainId: 5 } })]
    expectRpcError(
      findConflict(request('eth_signTypedData_v4', json)),
      ConflictingParamsError,
      -32602,
      'Conflicting chains in the request: request.chainId is 31337 but params[1].domain.chainId is 5.',
    )
  })

  test('error: a domain.chainId that is no chain id -> InvalidParamsError naming the field', () => {
    for (const [chainId, shown] of [
      ['mainnet', '"mainnet"'],
      [0, '0'],
      [1.5, '1.5'],
      ['', '""'],
    ] as const)
      expectRpcError(
        findConflict(request('eth_signTypedData_v4', typed(chainId))),
        InvalidParamsError,
        -32602,
        `params[1].domain.chainId is ${shown}, which is not a chain id.`,
      )
  })

  test('error: every documented duplicated pair is refused with a message naming both fields', () => {
    const conflicting: Record<string, PopupRequest> = {
      'eth_sendTransaction params[0].chainId': request('eth_sendTransaction', [
        { to: other, chainId: '0x1' },
      ]),
      'eth_sendTransaction params[0].input': request('eth_sendTransaction', [
        { to: other, data: '0x01', input: '0x02' },
      ]),
      'wallet_sendCalls params[0].chainId': request('wallet_sendCalls', sendCalls('0x1')),
      'eth_signTypedData_v4 params[1].domain.chainId': request('eth_signTypedData_v4', typed(1)),
    }
    expect(duplicatedFields).toHaveLength(Object.keys(conflicting).length)
    for (const { method, fields } of duplicatedFields) {
      const error = findConflict(conflicting[`${method} ${fields[1]}`]!)
      expectRpcError(error, ConflictingParamsError, -32602, /^Conflicting \w+ in the request: /)
      expect(
        (error as ConflictingParamsError).fields.map((f) => f.field),
        method,
      ).toEqual(fields)
    }
  })
})
