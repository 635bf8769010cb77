import { ChainDisconnectedError, deserializeError, InternalError } from '../Errors.js'

let nextId = 0

/** One JSON-RPC 2.0 call over HTTP `fetch`. Node errors become typed errors with the node's code. */
export async function rpcRequest(url: string, method: string, params: unknown): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++nextId, method, params: params ?? [] }),
    })
  } catch (cause) {
    throw new ChainDisconnectedError(`Could not reach ${url}.`, { cause })
  }
  let body: unknown
  try {
    body = await response.json()
  } catch (cause) {
    throw new InternalError(`${url} answered ${method} with HTTP ${response.status} and no JSON.`, { cause })
  }
  if (typeof body !== 'object' || body === null)
    throw new InternalError(`${url} answered ${method} with junk.`)
  const { error, result } = body as {
    error?: { code?: unknown; message?: unknown; data?: unknown }
    result?: unknown
  }
  if (error) {
    const code = Number.isInteger(error.code) ? (error.code as number) : -32603
    const message = typeof error.message === 'string' ? error.message : 'RPC error'
    throw deserializeError(error.data === undefined ? { code, message } : { code, message, data: error.data })
  }
  return result
}
