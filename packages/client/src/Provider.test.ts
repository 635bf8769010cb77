import { createWalletClient, custom, defineChain, hashTypedData, hexToString } from 'viem'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import {
  BaseError,
  ChainDisconnectedError,
  ConflictingParamsError,
  DuplicateIdError,
  InvalidParamsError,
  InvalidRequestError,
  PopupBlockedError,
  RpcError,
  UnauthorizedError,
  UnknownBundleIdError,
  UnknownChainError,
  UnsupportedChainIdError,
  UnsupportedMethodError,
  UnsupportedNonOptionalCapabilityError,
} from './Errors.js'
import { expectRpcError, rejectionOf, thrownBy } from './internal/expectError.js'
import { authOrigin, type FakeHandler, installFakeAuthServer } from './internal/fakeAuthServer.js'
import { createProvider, type Provider, type ProviderStorage } from './Provider.js'

const address = '0x1111111111111111111111111111111111111111'
const other = '0x2222222222222222222222222222222222222222'
const txHash = `0x${'aa'.repeat(32)}` as const
const opHash = `0x${'bb'.repeat(32)}` as const
const chains = [
  { id: 31337, name: 'Devnet', rpcUrl: 'http://127.0.0.1:8545', bundlerUrl: 'http://127.0.0.1:4337' },
  { id: 31338, rpcUrl: 'http://127.0.0.1:8546', bundlerUrl: 'http://127.0.0.1:4338' },
] as const
const devnet = defineChain({
  id: 31337,
  name: 'Devnet',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1:8545'] } },
})

const answers: FakeHandler = (request) => {
  switch (request.method) {
    case 'eth_requestAccounts':
      return { result: { accounts: [address], chainId: 31337 } }
    case 'eth_sendTransaction':
      return { result: txHash }
    case 'wallet_sendCalls':
      return { result: { id: opHash } }
    case 'personal_sign':
      return { result: '0x5151' }
    case 'eth_signTypedData_v4':
      return { result: '0x7171' }
    case 'wallet_showCallsStatus':
      return { result: null }
    case 'wallet_grantPermissions':
      return {
        result: { sessionId: opHash, account: address, chainId: request.chainId, transactionHash: txHash },
      }
    case 'wallet_revokePermissions':
    case 'wallet_installModule':
    case 'wallet_uninstallModule':
      return { result: { transactionHash: txHash } }
  }
}

function memoryStorage(): ProviderStorage & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  }
}

let server: ReturnType<typeof installFakeAuthServer>
let storage: ReturnType<typeof memoryStorage>
let provider: Provider
beforeEach(() => {
  server = installFakeAuthServer(answers)
  storage = memoryStorage()
  provider = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage })
})
afterEach(() => {
  server.restore()
  vi.unstubAllGlobals()
})

async function connect() {
  return provider.request({ method: 'eth_requestAccounts' })
}

describe('Provider', () => {
  test('behavior: connect through the popup, events, eth_accounts, eth_chainId', async () => {
    const events: unknown[] = []
    provider.on('connect', (info) => events.push(['connect', info]))
    provider.on('accountsChanged', (accounts) => events.push(['accountsChanged', accounts]))
    expect(await provider.request({ method: 'eth_accounts' })).toEqual([])
    const promise = connect()
    expect(server.popups).toHaveLength(1) // opened synchronously inside request()
    expect(await promise).toEqual([address])
    expect(events).toEqual([
      ['connect', { chainId: '0x7a69' }],
      ['accountsChanged', [address]],
    ])
    expect(await provider.request({ method: 'eth_accounts' })).toEqual([address])
    expect(await provider.request({ method: 'eth_chainId' })).toBe('0x7a69')
    // already connected: no second popup
    expect(await connect()).toEqual([address])
    expect(server.popups).toHaveLength(1)
  })

  test('behavior: a reload keeps the connection', async () => {
    await connect()
    await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x7a6a' }] })
    const reloaded = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage })
    expect(await reloaded.request({ method: 'eth_accounts' })).toEqual([address])
    expect(await reloaded.request({ method: 'eth_chainId' })).toBe('0x7a6a')
    await reloaded.request({ method: 'wallet_disconnect' })
    const again = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage })
    expect(await again.request({ method: 'eth_accounts' })).toEqual([])
    // corrupt storage falls back to disconnected
    storage.map.set('sso.connection', '{nope')
    const corrupt = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never, storage })
    expect(await corrupt.request({ method: 'eth_accounts' })).toEqual([])
  })

  test('behavior: the default storage is localStorage', async () => {
    localStorage.clear()
    const a = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never })
    await a.request({ method: 'eth_requestAccounts' })
    const b = createProvider({ authServerUrl: authOrigin, chains: [...chains] as never })
    expect(await b.request({ method: 'eth_accounts' })).toEqual([address])
    localStorage.clear()
  })

  test('behavior: switch chain, disconnect and their events', async () => {
    await connect()
    const events: unknown[] = []
    provider.on('chainChanged', (id) => events.push(['chainChanged', id]))
    provider.on('disconnect', (error) => events.push(['disconnect', error.code]))
    provider.on('accountsChanged', (accounts) => events.push(['accountsChanged', accounts]))
    expect(
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x7a6a' }] }),
    ).toBe(null)
    await provider.request({ method: 'wallet_disconnect' })
    expect(events).toEqual([
      ['chainChanged', '0x7a6a'],
      ['accountsChanged', []],
      ['disconnect', 4900],
    ])
    expect(await provider.request({ method: 'eth_accounts' })).toEqual([])
  })

  test('error: unknown chain -> 4902, unsupported -> 4200, before connect -> 4100', async () => {
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x1' }] }),
      ),
      UnknownChainError,
      4902,
      'Chain 1 is not configured in the SSO provider.',
    )
    for (const method of ['eth_sign', 'constructor'])
      expectRpcError(
        await rejectionOf(provider.request({ method, params: [address, '0x'] })),
        UnsupportedMethodError,
        4200,
        `The SSO provider does not support "${method}".`,
      )
    for (const [method, params] of [
      ['eth_sendTransaction', [{ to: address }]],
      ['personal_sign', ['0x68', address]],
      ['eth_signTypedData_v4', [address, { types: {}, primaryType: 'A', message: {} }]],
      [
        'wallet_sendCalls',
        [{ version: '2.0.0', chainId: '0x7a69', atomicRequired: true, calls: [{ to: address }] }],
      ],
      ['wallet_showCallsStatus', [opHash]],
    ] as const) {
      expectRpcError(
        await rejectionOf(provider.request({ method, params })),
        UnauthorizedError,
        4100,
        'Not connected: call eth_requestAccounts first (from a click handler).',
      )
    }
    expect(server.popups).toHaveLength(0)
  })

  test('error: every method rejects malformed params with -32602 and opens no popup', async () => {
    await connect()
    const cases: [string, unknown][] = [
      ['eth_requestAccounts', ['x']],
      ['eth_requestAccounts', [{}]],
      ['eth_accounts', [1]],
      ['eth_chainId', [1]],
      ['wallet_switchEthereumChain', []],
      ['wallet_switchEthereumChain', [{ chainId: 31337 }]],
      ['eth_sendTransaction', []],
      ['eth_sendTransaction', [{ to: 'bad' }]],
      ['eth_sendTransaction', [{ to: address, value: 1n }]],
      ['wallet_sendCalls', [{ version: '2.0.0', chainId: '0x7a69', atomicRequired: true, calls: [] }]],
      ['wallet_sendCalls', [{ chainId: '0x7a69', calls: [{ to: address }] }]],
      ['wallet_getCallsStatus', []],
      ['wallet_getCallsStatus', [1]],
      ['wallet_showCallsStatus', []],
      ['wallet_getCapabilities', ['bad']],
      ['wallet_getCapabilities', [address, ['x']]],
      ['personal_sign', ['hello', address]],
      ['personal_sign', ['0x68']],
      ['eth_signTypedData_v4', [address, '{bad json']],
      ['eth_signTypedData_v4', [address, { types: 1 }]],
      ['wallet_disconnect', [1]],
      ['eth_getBalance', { address }],
    ]
    for (const [method, params] of cases)
      expectRpcError(
        await rejectionOf(provider.request({ method, params: params as never })),
        InvalidParamsError,
        -32602,
        method === 'eth_getBalance'
          ? 'Params of "eth_getBalance" must be an array.'
          : `Invalid params for "${method}".`,
      )
    // A quantity too large to be a chain id is named, not a RangeError.
    const huge = `0x${'f'.repeat(20)}`
    for (const [method, params] of [
      [
        'wallet_sendCalls',
        [{ version: '2.0.0', chainId: huge, atomicRequired: true, calls: [{ to: address }] }],
      ],
      ['wallet_switchEthereumChain', [{ chainId: huge }]],
    ] as const)
      expectRpcError(
        await rejectionOf(provider.request({ method, params })),
        InvalidParamsError,
        -32602,
        `params[0].chainId is ${huge}, which is not a chain id.`,
      )
    expect(server.popups).toHaveLength(1) // only the connect
    expectRpcError(
      await rejectionOf(provider.request(null as never)),
      InvalidRequestError,
      -32600,
      'request() expects { method: string, params?: unknown[] }.',
    )
    expectRpcError(
      await rejectionOf(provider.request({ method: 'eth_call', params: 5 } as never)),
      InvalidRequestError,
      -32600,
      'params must be an array or an object.',
    )
  })

  test('error: signing for another account -> 4100, batches on unknown chains -> 5710, unknown capability -> 5700', async () => {
    await connect()
    const notConnected = (field: string) =>
      `The request is for another account: ${field} is ${other} but the connected SSO account (eth_accounts) is ${address}.`
    expectRpcError(
      await rejectionOf(provider.request({ method: 'personal_sign', params: ['0x68', other] })),
      UnauthorizedError,
      4100,
      notConnected('params[1]'),
    )
    expectRpcError(
      await rejectionOf(
        provider.request({ method: 'eth_sendTransaction', params: [{ from: other, to: address }] }),
      ),
      UnauthorizedError,
      4100,
      notConnected('params[0].from'),
    )
    const batch = {
      version: '2.0.0',
      from: address,
      chainId: '0x1',
      atomicRequired: true,
      calls: [{ to: address }],
    }
    expectRpcError(
      await rejectionOf(provider.request({ method: 'wallet_sendCalls', params: [batch] })),
      UnsupportedChainIdError,
      5710,
      'Chain 1 is not configured in the SSO provider.',
    )
    for (const params of [
      [{ ...batch, chainId: '0x7a69', capabilities: { magic: {} } }],
      [
        {
          ...batch,
          chainId: '0x7a69',
          calls: [{ to: address, capabilities: { magic: { optional: false } } }],
        },
      ],
    ])
      expectRpcError(
        await rejectionOf(provider.request({ method: 'wallet_sendCalls', params })),
        UnsupportedNonOptionalCapabilityError,
        5700,
        'The capability "magic" is not supported.',
      )
    expectRpcError(
      await rejectionOf(provider.request({ method: 'wallet_getCapabilities', params: [other] })),
      UnauthorizedError,
      4100,
      notConnected('params[0]'),
    )
    expect(server.popups).toHaveLength(1) // only the connect
  })

  test('error: a blocked popup gives PopupBlockedError', async () => {
    server.block()
    expectRpcError(
      await rejectionOf(connect()),
      PopupBlockedError,
      -32603,
      'The SSO popup was blocked by the browser.',
    )
  })

  test('behavior: works as a viem wallet client (sendTransaction, signMessage, signTypedData, sendCalls)', async () => {
    await connect()
    const client = createWalletClient({ account: address, chain: devnet, transport: custom(provider) })
    expect(await client.getAddresses()).toEqual([address])
    expect(await client.getChainId()).toBe(31337)
    expect(await client.sendTransaction({ to: other, value: 1n, data: '0x1234' })).toBe(txHash)
    const tx = server.requests.find((r) => r.method === 'eth_sendTransaction')
    expect(tx?.params[0]).toMatchObject({ to: other, value: '0x1', data: '0x1234' })
    expect(tx?.chainId).toBe(31337)

    expect(await client.signMessage({ message: 'hello' })).toBe('0x5151')
    const sign = server.requests.find((r) => r.method === 'personal_sign')
    expect(hexToString(sign?.params[0] as `0x${string}`)).toBe('hello')
    expect(sign?.params[1]).toBe(address)

    const typedData = {
      domain: { name: 'Mail', version: '1', chainId: 31337, verifyingContract: other },
      types: {
        Mail: [
          { name: 'contents', type: 'string' },
          { name: 'amount', type: 'uint256' },
        ],
      },
      primaryType: 'Mail',
      message: { contents: 'hi', amount: 10n ** 20n },
    } as const
    expect(await client.signTypedData(typedData)).toBe('0x7171')
    const typed = server.requests.find((r) => r.method === 'eth_signTypedData_v4')
    const received = typed?.params[1] as Parameters<typeof hashTypedData>[0]
    expect(hashTypedData(received)).toBe(hashTypedData(typedData))

    const { id } = await client.sendCalls({
      calls: [
        { to: other, value: 1n },
        { to: address, data: '0xabcd' },
      ],
    })
    expect(id).toBe(opHash)
    const calls = server.requests.find((r) => r.method === 'wallet_sendCalls')
    expect(calls?.params[0]).toMatchObject({
      chainId: '0x7a69',
      from: address,
      calls: [
        { to: other, value: '0x1' },
        { to: address, data: '0xabcd' },
      ],
    })
    const capabilities = await client.getCapabilities({ account: address })
    // No session manager: no ERC-7715 permissions capability.
    const each = { atomic: { status: 'supported' }, paymasterService: { supported: true } }
    expect(capabilities).toEqual({ 31337: each, 31338: each })
  })

  test('error: wallet_showCallsStatus of an id this provider never sent, and not a userOp hash, is 5730 with no popup', async () => {
    await connect()
    const opened = server.popups.length
    expectRpcError(
      await rejectionOf(provider.request({ method: 'wallet_showCallsStatus', params: ['my-batch'] })),
      UnknownBundleIdError,
      5730,
      'No batch with id my-batch was sent through this provider.',
    )
    expect(server.popups.length).toBe(opened)
  })

  test('behavior: paymaster option adds the paymasterService capability', async () => {
    const withPaymaster = createProvider({
      authServerUrl: authOrigin,
      chains: [...chains] as never,
      storage,
      paymaster: { url: 'http://127.0.0.1:3000/paymaster' },
    })
    await withPaymaster.request({ method: 'eth_requestAccounts' })
    await withPaymaster.request({ method: 'eth_sendTransaction', params: [{ to: other }] })
    const tx = server.requests.find((r) => r.method === 'eth_sendTransaction')
    expect(tx?.params[1]).toEqual({ paymasterService: { url: 'http://127.0.0.1:3000/paymaster' } })
  })

  test('behavior: read-only methods go to the chain RPC; getCallsStatus reads the bundler', async () => {
    const calls: { url: string; method: string; params: unknown }[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init: { body: string }) => {
        const { id, method, params } = JSON.parse(init.body)
        calls.push({ url, method, params })
        let result: unknown = null
        if (method === 'eth_getBalance') result = '0x10'
        if (method === 'eth_getUserOperationReceipt' && params[0] === opHash)
          result = {
            success: true,
            actualGasUsed: '0x100',
            logs: [{ address: other, data: '0x', topics: [], logIndex: '0x0' }],
            receipt: { blockHash: txHash, blockNumber: '0x5', gasUsed: '0x200', transactionHash: txHash },
          }
        if (method === 'eth_call')
          return new Response(
            JSON.stringify({
              jsonrpc: '2.0',
              id,
              error: { code: 3, message: 'execution reverted', data: '0x08c379a0' },
            }),
          )
        return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }))
      }),
    )
    expect(await provider.request({ method: 'eth_getBalance', params: [address, 'latest'] })).toBe('0x10')
    expect(calls[0]).toEqual({ url: chains[0].rpcUrl, method: 'eth_getBalance', params: [address, 'latest'] })
    // A node error keeps its code, message and data (no class of ours has code 3).
    const reverted = await rejectionOf(
      provider.request({ method: 'eth_call', params: [{ to: other }, 'latest'] }),
    )
    expectRpcError(reverted, RpcError, 3, 'execution reverted')
    expect((reverted as RpcError).data).toBe('0x08c379a0')

    await connect()
    const status = await provider.request({ method: 'wallet_getCallsStatus', params: [opHash] })
    expect(status).toEqual({
      version: '2.0.0',
      id: opHash,
      chainId: '0x7a69',
      atomic: true,
      status: 200,
      receipts: [
        {
          logs: [{ address: other, data: '0x', topics: [] }],
          status: '0x1',
          blockHash: txHash,
          blockNumber: '0x5',
          gasUsed: '0x100',
          transactionHash: txHash,
        },
      ],
    })
    expect(calls.at(-1)?.url).toBe(chains[0].bundlerUrl)
    const unknown = `0x${'cc'.repeat(32)}`
    expectRpcError(
      await rejectionOf(provider.request({ method: 'wallet_getCallsStatus', params: [unknown] })),
      UnknownBundleIdError,
      5730,
      `No batch with id ${unknown} is known.`,
    )
    // a batch we sent but the bundler has not included yet is pending (100)
    await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x7a6a' }] })
    server.requests.length = 0
    await provider.request({
      method: 'wallet_sendCalls',
      params: [{ version: '2.0.0', chainId: '0x7a69', atomicRequired: true, calls: [{ to: other }] }],
    })
    expect(server.requests[0]?.chainId).toBe(31337)
    const pending = (await provider.request({ method: 'wallet_getCallsStatus', params: [opHash] })) as {
      status: number
    }
    expect(pending.status).toBe(200)
  })

  test('behavior: a dapp-chosen batch id maps to the userOp hash; reusing it is 5720', async () => {
    const bundlerCalls: unknown[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: { body: string }) => {
        const { id, method, params } = JSON.parse(init.body)
        bundlerCalls.push([method, params])
        return new Response(JSON.stringify({ jsonrpc: '2.0', id, result: null }))
      }),
    )
    await connect()
    const batch = {
      version: '2.0.0',
      id: 'my-batch',
      chainId: '0x7a69',
      atomicRequired: true,
      calls: [{ to: other }],
    }
    expect(await provider.request({ method: 'wallet_sendCalls', params: [batch] })).toEqual({
      id: 'my-batch',
    })
    const status = (await provider.request({ method: 'wallet_getCallsStatus', params: ['my-batch'] })) as {
      id: string
      status: number
    }
    expect(status).toMatchObject({ id: 'my-batch', status: 100 })
    expect(bundlerCalls).toEqual([['eth_getUserOperationReceipt', [opHash]]])
    expectRpcError(
      await rejectionOf(provider.request({ method: 'wallet_sendCalls', params: [batch] })),
      DuplicateIdError,
      5720,
      'A batch with id my-batch was already sent.',
    )
  })

  test('behavior: viem reads batch status through wallet_getCallsStatus', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: { body: string }) => {
        const { id } = JSON.parse(init.body)
        const result = {
          success: false,
          actualGasUsed: '0x100',
          logs: [],
          receipt: { blockHash: txHash, blockNumber: '0x5', gasUsed: '0x200', transactionHash: txHash },
        }
        return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }))
      }),
    )
    await connect()
    const client = createWalletClient({ account: address, chain: devnet, transport: custom(provider) })
    const { id } = await client.sendCalls({ calls: [{ to: other, value: 1n }] })
    const status = await client.getCallsStatus({ id })
    expect(status).toMatchObject({ status: 'failure', statusCode: 500, atomic: true, chainId: 31337 })
    expect(status.receipts?.[0]).toMatchObject({
      status: 'reverted',
      blockNumber: 5n,
      transactionHash: txHash,
    })
  })

  test('error: an unreachable node gives 4901', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('fetch failed'))),
    )
    expectRpcError(
      await rejectionOf(provider.request({ method: 'eth_blockNumber' })),
      ChainDisconnectedError,
      4901,
      'Could not reach http://127.0.0.1:8545.',
    )
  })

  test('error: invalid options throw a clear error', () => {
    for (const [options, details] of [
      [{ authServerUrl: 'nope', chains: [...chains] }, /authServerUrl/],
      [{ authServerUrl: authOrigin, chains: [] }, /chains/],
    ] as const) {
      const thrown = thrownBy(() => createProvider(options as never))
      // Not an RPC error (no request was made): a BaseError that says what is wrong.
      expect(thrown).toBeInstanceOf(BaseError)
      expect((thrown as BaseError).shortMessage).toBe('Invalid SSO provider options.')
      expect((thrown as BaseError).details).toMatch(details)
    }
  })

  describe('one value, one place: conflicting requests are refused before the popup opens', () => {
    const onChain = (chainId: number) =>
      `Conflicting chains in the request: the provider's chain (eth_chainId) is ${chainId} but`
    const typedData = (chainId: unknown) => ({
      domain: { name: 'Mail', version: '1', chainId, verifyingContract: other },
      types: { Mail: [{ name: 'contents', type: 'string' }] },
      primaryType: 'Mail',
      message: { contents: 'hi' },
    })

    test('error: eth_sendTransaction whose params[0].chainId is not the provider chain -> -32602 naming both', async () => {
      await connect()
      expectRpcError(
        await rejectionOf(
          provider.request({
            method: 'eth_sendTransaction',
            params: [{ to: other, value: '0x1', chainId: '0x1' }],
          }),
        ),
        ConflictingParamsError,
        -32602,
        `${onChain(31337)} params[0].chainId is 0x1 (1).`,
      )
      // After a switch the provider's chain is the other one: the transaction's own chain id no longer agrees.
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x7a6a' }] })
      expectRpcError(
        await rejectionOf(
          provider.request({ method: 'eth_sendTransaction', params: [{ to: other, chainId: '0x7a69' }] }),
        ),
        ConflictingParamsError,
        -32602,
        `${onChain(31338)} params[0].chainId is 0x7a69 (31337).`,
      )
      expect(server.popups).toHaveLength(1) // only the connect
      expect(server.requests.map((r) => r.method)).toEqual(['eth_requestAccounts'])
    })

    test('error: eth_sendTransaction whose params[0].data is not params[0].input -> -32602 naming both', async () => {
      await connect()
      expectRpcError(
        await rejectionOf(
          provider.request({
            method: 'eth_sendTransaction',
            params: [{ to: other, data: '0x1234', input: '0x5678' }],
          }),
        ),
        ConflictingParamsError,
        -32602,
        'Conflicting calldata in the request: params[0].data is 0x1234 but params[0].input is 0x5678.',
      )
      expect(server.popups).toHaveLength(1)
      // The same calldata in both places is one value: it goes through.
      await provider.request({
        method: 'eth_sendTransaction',
        params: [{ to: other, data: '0xab', input: '0xAB' }],
      })
      expect(server.requests.at(-1)).toMatchObject({ method: 'eth_sendTransaction', chainId: 31337 })
    })

    test('error: eth_signTypedData_v4 whose domain.chainId is not the provider chain -> -32602 naming both', async () => {
      await connect()
      for (const [data, shown] of [
        [typedData(1), '1'],
        [JSON.stringify(typedData('0x7a6a')), '0x7a6a (31338)'],
      ] as const)
        expectRpcError(
          await rejectionOf(provider.request({ method: 'eth_signTypedData_v4', params: [address, data] })),
          ConflictingParamsError,
          -32602,
          `${onChain(31337)} params[1].domain.chainId is ${shown}.`,
        )
      expect(server.popups).toHaveLength(1)
      // On the chain it names, the same typed data is signed (the popup gets the provider's chain).
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x7a6a' }] })
      expect(
        await provider.request({ method: 'eth_signTypedData_v4', params: [address, typedData('0x7a6a')] }),
      ).toBe('0x7171')
      expect(server.requests.at(-1)).toMatchObject({ method: 'eth_signTypedData_v4', chainId: 31338 })
    })

    test('behavior: wallet_sendCalls acts on params[0].chainId, which is also the chain the popup is told', async () => {
      await connect()
      // EIP-5792: a batch names its chain; it need not be the provider's current one.
      await provider.request({
        method: 'wallet_sendCalls',
        params: [{ version: '2.0.0', chainId: '0x7a6a', atomicRequired: true, calls: [{ to: other }] }],
      })
      const sent = server.requests.at(-1)
      expect(sent?.method).toBe('wallet_sendCalls')
      expect(sent?.chainId).toBe(31338)
      expect(sent?.method === 'wallet_sendCalls' && sent.params[0].chainId).toBe('0x7a6a')
    })

    test('error: an account that is not the connected one -> 4100 naming the field and both accounts', async () => {
      await connect()
      const cases = [
        ['eth_sendTransaction', [{ from: other, to: address }], 'params[0].from'],
        [
          'wallet_sendCalls',
          [
            {
              version: '2.0.0',
              from: other,
              chainId: '0x7a69',
              atomicRequired: true,
              calls: [{ to: address }],
            },
          ],
          'params[0].from',
        ],
        ['personal_sign', ['0x68', other], 'params[1]'],
        ['eth_signTypedData_v4', [other, typedData(31337)], 'params[0]'],
      ] as const
      for (const [method, params, field] of cases)
        expectRpcError(
          await rejectionOf(provider.request({ method, params })),
          UnauthorizedError,
          4100,
          `The request is for another account: ${field} is ${other} but the connected SSO account (eth_accounts) is ${address}.`,
        )
      expect(server.popups).toHaveLength(1)
    })
  })
})
