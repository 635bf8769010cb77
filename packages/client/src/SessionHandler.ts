/**
 * The boundary between the provider and the session manager (types only, so the provider entry does not import
 * viem). The dapp creates the manager with `createSessionManager` from `@sso/client/session` and passes it to
 * `createProvider({ session })`.
 */
import type { SessionSpecWire } from './RpcSchema.js'

/** A configured chain as the session manager needs it (the provider's `ChainConfig`). */
export type SessionChain = {
  id: number
  name?: string | undefined
  rpcUrl: string
  bundlerUrl: string
  /** Our contracts on this chain (`sso-config.json`); the `@sso/contracts-abi` manifest fills what is missing. */
  contracts?: ChainContracts | undefined
}

/** Addresses of our contracts on one chain, by camelCase contract name (docs/interfaces.md). */
export type ChainContracts = {
  sessionKeyValidator?: `0x${string}` | undefined
  webAuthnValidator?: `0x${string}` | undefined
  guardianExecutor?: `0x${string}` | undefined
  [name: string]: `0x${string}` | undefined
}

/** Provider events about sessions. */
export type SessionEvents = {
  /** The session is past its expiry (found when sending or reading its state); it is forgotten. */
  sessionExpired: (info: SessionEventInfo) => void
  /** The session was revoked (from this dapp, the dashboard, or a revoke-all); it is forgotten. */
  sessionRevoked: (info: SessionEventInfo) => void
  /** A limit has less than `threshold` (default 10%) of its amount left in the current period. */
  sessionLimitNearlyUsed: (
    info: SessionEventInfo & { limit: string; remaining: bigint; total: bigint },
  ) => void
}
export type SessionEventInfo = { sessionId: `0x${string}`; account: `0x${string}`; chainId: number }

type Call = { to: `0x${string}`; data?: `0x${string}` | undefined; value?: bigint | undefined }

/** What the provider calls; implemented by `createSessionManager`. */
export type SessionHandler = {
  /** Called once by `createProvider`. */
  attach(host: {
    emit: <event extends keyof SessionEvents>(event: event, ...args: Parameters<SessionEvents[event]>) => void
    chain: (chainId: number) => SessionChain | undefined
  }): void
  /**
   * Synchronous (the popup opens right after): validates the dapp's request, fills in the session key's public key
   * and returns the popup params plus what to do with the popup's answer. Throws typed errors.
   */
  prepareGrant(
    request: unknown,
    context: { account: `0x${string}` | undefined; chainId: number },
  ): {
    params: [{ spec: SessionSpecWire; address?: `0x${string}` }]
    finish(result: {
      sessionId: `0x${string}`
      account: `0x${string}`
      chainId: number
      transactionHash: `0x${string}`
    }): Promise<unknown>
  }
  /** Synchronous: the popup params to revoke `request` (`{ id }`, `{ all: true }`, or nothing = this dapp's session). */
  prepareRevoke(
    request: unknown,
    context: { account: `0x${string}`; chainId: number },
  ): {
    params: [{ id: `0x${string}` } | { all: true }]
    finish(result: { transactionHash: `0x${string}` }): Promise<unknown>
  }
  /** The SessionKeyValidator of a chain (ERC-7715 answers name it as `delegationManager`). */
  validatorOf(chainId: number): `0x${string}`
  /** Gas (wei, over the session's life) a session made from ERC-7715 permissions may spend. */
  readonly permissionFeeLimit: bigint
  /** Whether this dapp holds a session for the account on the chain (from memory / storage, synchronous). */
  has(account: `0x${string}`, chainId: number): boolean
  /**
   * Sends calls with the session key (no popup). `fallback` opens the popup (passkey approval); it is called
   * synchronously when the calls are plainly outside the spec, else after the on-chain limit check.
   * Resolves with the userOp hash (and the transaction hash once included when `wait`), or `{ fallback }` with
   * the popup's answer when the on-chain check sent the calls to the popup. `paymasterService`: the ERC-7677
   * service the dapp named for this send (EIP-5792 capability), which then pays instead of the manager's payer.
   */
  send(
    args: {
      account: `0x${string}`
      chainId: number
      calls: readonly Call[]
      wait: boolean
      paymasterService?: { url: string; context?: Record<string, unknown> | undefined } | undefined
    },
    fallback: () => Promise<unknown>,
  ):
    | { popup: Promise<unknown> }
    | {
        session: Promise<
          { userOpHash: `0x${string}`; transactionHash?: `0x${string}` | undefined } | { fallback: unknown }
        >
      }
  /** Forgets the sessions of an account (disconnect). */
  forget(account: `0x${string}` | undefined): void
}
