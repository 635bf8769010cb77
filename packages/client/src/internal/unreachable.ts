/**
 * Whether an error means that an endpoint did not answer (refused connection, reset, timeout) rather than that it
 * answered with an error: only then is it unknown whether a request took effect.
 */
export function isUnreachable(error: unknown): boolean {
  for (let e = error as { name?: string; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.name === 'HttpRequestError' || e.name === 'TimeoutError' || e.name === 'SocketClosedError') {
      // viem's HttpRequestError also carries HTTP error statuses: a status means the server answered.
      const status = (e as { status?: number }).status
      return status === undefined || status >= 502
    }
    e = e.cause as typeof e
  }
  return false
}

/** Whether the connection was refused (Node's fetch says so): the request never reached the endpoint. */
export function refused(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 10;
    depth++
  ) {
    if (e.code === 'ECONNREFUSED') return true
    e = e.cause as typeof e
  }
  return false
}
