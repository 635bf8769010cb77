/**
 * Sign-In with Ethereum (EIP-4361) in the popup (docs/interfaces.md, "Sign-In with Ethereum"): what a sign-in message
 * asks that does not match the request it came with. A site may ask for a signature that signs the user in to
 * another site (phishing): the popup says so before the passkey is asked.
 */
import { isAddressEqual } from 'viem'
import type { parseSiweMessage } from 'viem/siwe'

/** Each way `fields` does not match the request, in words (empty: it matches). */
export function siweMismatches(
  fields: ReturnType<typeof parseSiweMessage>,
  request: { origin: string; account: `0x${string}` | undefined; chainId: number },
): string[] {
  const out: string[] = []
  let host: string | undefined
  try {
    host = new URL(request.origin).host
  } catch {
    host = undefined
  }
  if (fields.domain !== host)
    out.push(
      `It signs you in to ${fields.domain ?? 'no domain'}, but the request comes from ${request.origin}.`,
    )
  if (fields.uri) {
    let uriOrigin: string | undefined
    try {
      uriOrigin = new URL(fields.uri).origin
    } catch {
      uriOrigin = undefined
    }
    if (uriOrigin !== request.origin) out.push(`Its URI is ${fields.uri}, not on ${request.origin}.`)
  }
  if (fields.address && request.account && !isAddressEqual(fields.address, request.account))
    out.push(`It names the account ${fields.address}, not yours (${request.account}).`)
  if (fields.chainId !== undefined && fields.chainId !== request.chainId)
    out.push(`It is for chain ${fields.chainId}, but the request is on chain ${request.chainId}.`)
  return out
}
