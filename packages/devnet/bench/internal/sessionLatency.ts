/**
 * Where the time of a session transaction goes: the dapp's session manager (`createSessionManager` of
 * @sso/client/session, as the provider drives it) sends with a session key while every JSON-RPC request it makes
 * is timed (a wrapper around `fetch`), and a watcher on the chain notes the block that includes the userOp.
 */
import {
  createMemoryKeyStore,
  createSessionManager,
  encodeSessionSpec,
  lifetime,
  type SessionManager,
  type SessionSpec,
  sessionId,
  sessionKeyValidatorAbi,
  sessionSpecFromWire,
} from '@sso/client/session'
import { type Address, encodeFunctionData, type Hex, parseEther } from 'viem'
import type { SmartAccount } from 'viem/account-abstraction'
import type { Stack } from '../../src/index.js'
import type { BenchEnv } from './env.js'

/** One JSON-RPC request seen by the wrapped `fetch` (a batch counts once per method). */
export type TracedRequest = { method: string; url: string; start: number; end: number }

/** Records every JSON-RPC request made through `fetch` while `active`. */
export function traceFetch() {
  const requests: TracedRequest[] = []
  const original = globalThis.fetch
  let active = false
  globalThis.fetch = async (input, init) => {
    if (!active) return original(input, init)
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    let methods: string[] = ['?']
    try {
      const body = JSON.parse(String(init?.body)) as { method: string } | { method: string }[]
      methods = Array.isArray(body) ? body.map((b) => b.method) : [body.method]
    } catch {
      // Not JSON-RPC.
    }
    const start = performance.now()
    try {
      return await original(input, init)
    } finally {
      const end = performance.now()
      for (const method of methods) requests.push({ method, url, start, end })
    }
  }
  return {
    requests,
    /** Starts a fresh recording. */
    start() {
      requests.length = 0
      active = true
    },
    stop() {
      active = false
    },
    restore() {
      globalThis.fetch = original
    },
    /** The unwrapped fetch (for the chain watcher, which must not be traced). */
    fetch: original,
  }
}

/** The session manager of a dapp (secp256k1 keys in memory), attached to the stack's first chain. */
export function benchSessionManager(stack: Stack): SessionManager {
  const validator = stack.contracts.sessionKeyValidator
  if (!validator) throw new Error('SessionKeyValidator not deployed')
  const memory = new Map<string, string>()
  const manager = createSessionManager({
    keyType: 'secp256k1',
    keyStore: createMemoryKeyStore(),
    storage: {
      getItem: (key) => memory.get(key) ?? null,
      setItem: (key, value) => void memory.set(key, value),
      removeItem: (key) => void memory.delete(key),
    },
    validators: { [stack.chainId]: validator },
    onOutOfPolicy: 'fail',
  })
  manager.attach({
    emit: () => {},
    chain: (id) =>
      id === stack.chainId ? { id, rpcUrl: stack.rpcUrl, bundlerUrl: stack.bundlerUrl } : undefined,
  })
  return manager
}

/**
 * Grants `manager` a session on the deployed `owner` as the popup would (one passkey userOp calling
 * `createSession`), fee limit 1 ETH, expiring in an hour.
 */
export async function grantBenchSession(
  stack: Stack,
  env: BenchEnv,
  manager: SessionManager,
  owner: SmartAccount,
  policies: Pick<SessionSpec, 'callPolicies' | 'transferPolicies'>,
): Promise<SessionSpec> {
  const validator = stack.contracts.sessionKeyValidator as Address
  await manager.ready()
  const now = Number((await env.client.getBlock({ blockTag: 'latest' })).timestamp)
  const grant = manager.prepareGrant(
    { expiresAt: now + 3600, feeLimit: lifetime(parseEther('1')), ...policies },
    { account: owner.address, chainId: stack.chainId },
  )
  const spec = sessionSpecFromWire(grant.params[0].spec)
  const receipt = await env.sendUserOperation(owner, [
    {
      to: validator,
      data: encodeFunctionData({
        abi: sessionKeyValidatorAbi,
        functionName: 'createSession',
        args: [encodeSessionSpec(spec)],
      }),
    },
  ])
  await grant.finish({
    sessionId: sessionId(spec),
    account: owner.address,
    chainId: stack.chainId,
    transactionHash: receipt.transactionHash,
  })
  return spec
}

/** The steps of one session send, in ms from the request; see {@link sessionSteps}. */
export type SessionSteps = {
  /** Session state, latest block, nonce and fees (the reads before anything is signed). */
  reads: number
  /** `eth_estimateUserOperationGas` (0 when the gas was known). */
  estimate: number
  /** From the last read to the submission: the session key signs. */
  sign: number
  /** `eth_sendUserOperation`: the bundler checks and accepts the userOp. */
  submit: number
  /** From the bundler's answer to the block that includes the userOp (the bundler bundles, the chain mines). */
  inclusion: number
  /** From that block to the dapp holding the receipt. */
  receipt: number
  total: number
}

/**
 * Splits one traced send into {@link SessionSteps}. `includedAt` is when the watcher saw the including block.
 */
export function sessionSteps(requests: TracedRequest[], includedAt: number, doneAt: number, t0: number) {
  const first = (method: string) => requests.find((r) => r.method === method)
  const submit = first('eth_sendUserOperation')
  if (!submit) throw new Error('no eth_sendUserOperation in the trace')
  const estimate = requests.filter(
    (r) => r.method === 'eth_estimateUserOperationGas' && r.end <= submit.start,
  )
  const readsDone = Math.max(
    t0,
    ...requests
      .filter((r) => r.end <= submit.start && r.method !== 'eth_estimateUserOperationGas')
      .filter((r) => estimate.length === 0 || r.start < estimate[0]!.start)
      .map((r) => r.end),
  )
  const estimateDone = estimate.length ? Math.max(...estimate.map((r) => r.end)) : readsDone
  const included = Math.max(includedAt, submit.end)
  return {
    reads: readsDone - t0,
    estimate: estimateDone - readsDone,
    sign: submit.start - estimateDone,
    submit: submit.end - submit.start,
    inclusion: included - submit.end,
    receipt: doneAt - included,
    total: doneAt - t0,
  } satisfies SessionSteps
}

/** Polls the chain's block number (untraced) every few ms; `seenAt(n)` is when block `n` was first seen. */
export function watchBlocks(rpcUrl: string, fetchFn: typeof fetch) {
  const seen = new Map<number, number>()
  let running = true
  const loop = (async () => {
    while (running) {
      try {
        const response = await fetchFn(rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
        })
        const block = Number(((await response.json()) as { result: Hex }).result)
        if (!seen.has(block)) seen.set(block, performance.now())
      } catch {
        // The chain is busy or restarting: try again.
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })()
  return {
    seenAt: (block: number) => seen.get(block),
    async stop() {
      running = false
      await loop
    },
  }
}
