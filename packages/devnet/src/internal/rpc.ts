/** One JSON-RPC call with a timeout (the devnet's health checks and cheat codes); an RPC error throws. */
export async function rpc(
  url: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 2000,
): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const json = (await response.json()) as { result?: unknown; error?: { message: string } }
  if (json.error) throw new Error(json.error.message)
  return json.result
}
