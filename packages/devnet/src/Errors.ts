import { Errors } from '@sso/client'

/**
 * Base class of every error the devnet throws, on the client's root error (`Errors.BaseError`): a short message,
 * optional details, the cause, the docs page.
 */
export class DevnetError extends Errors.BaseError {
  override name = 'DevnetError'
}

/** An option of `startStack` has a value it does not accept. */
export class InvalidOptionError extends DevnetError {
  override name = 'InvalidOptionError'
}

/** A port the stack needs is already taken. Thrown before anything is started. */
export class PortInUseError extends DevnetError {
  override name = 'PortInUseError'
  constructor(
    readonly port: number,
    readonly service: string,
  ) {
    super(
      `Port ${port} (${service}) is already in use on 127.0.0.1. Stop what listens there or pick other ports.`,
    )
  }
}

/** A child process (anvil, Alto, a build) exited early or never became healthy. `details` holds its log tail. */
export class ChildProcessError extends DevnetError {
  override name = 'ChildProcessError'
  constructor(
    readonly service: string,
    shortMessage: string,
    options: { logFile?: string; logTail?: string; cause?: unknown } = {},
  ) {
    super(shortMessage, {
      details:
        options.logTail !== undefined
          ? `Last lines of ${options.logFile ?? 'its log'}:\n${options.logTail}`
          : undefined,
      cause: options.cause,
    })
  }
}

/** A contract landed at an address other than the one the @sso/contracts-abi manifest says. */
export class DeploymentMismatchError extends DevnetError {
  override name = 'DeploymentMismatchError'
}
