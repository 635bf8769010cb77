/**
 * Human-readable views of what the popup is asked to sign: calls decoded against known ABIs (ERC-20 and our
 * contracts; the packed spec of a `createSession` call is unpacked), ETH values, messages as text or hex, typed
 * data as domain + message.
 */
import { decodeSessionSpec, InvalidSessionSpecEncodingError, type SessionSpec } from '@sso/client/session'
import {
  accountFactoryAbi,
  sessionKeyValidatorAbi,
  sponsorPaymasterAbi,
  ssoAccountAbi,
  webAuthnValidatorAbi,
} from '@sso/contracts-abi'
import { type Abi, type Address, decodeFunctionData, erc20Abi, formatEther, type Hex, hexToBytes } from 'viem'

const knownAbis: readonly { name: string; abi: Abi }[] = [
  { name: 'ERC-20', abi: erc20Abi },
  { name: 'SsoAccount', abi: ssoAccountAbi as Abi },
  { name: 'WebAuthnValidator', abi: webAuthnValidatorAbi as Abi },
  { name: 'SessionKeyValidator', abi: sessionKeyValidatorAbi as Abi },
  { name: 'AccountFactory', abi: accountFactoryAbi as Abi },
  { name: 'SponsorPaymaster', abi: sponsorPaymasterAbi as Abi },
]

export type DecodedCall = {
  to: Address
  value: bigint
  /** `1.5 ETH` */
  valueText: string
  data: Hex
  /** Function name when the selector is known (`transfer`), `ETH transfer` without data, else undefined. */
  functionName: string | undefined
  /** Which ABI decoded it. */
  abiName: string | undefined
  /** Named arguments, formatted. */
  args: { name: string; value: string }[]
  /** ERC-20 `transfer` / `approve` / `transferFrom`: the raw token amount (formatted with the token's decimals). */
  tokenAmount: bigint | undefined
  /** `createSession(bytes spec)` on the SessionKeyValidator: the unpacked spec (undefined when malformed). */
  sessionSpec?: SessionSpec | undefined
}

/** Formats any decoded ABI value for display (bigints as decimal strings, nested values as JSON). */
export function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return value
  return (
    JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) ?? String(value)
  )
}

/** ETH amount for display: `0.0123 ETH`. */
export function formatEth(value: bigint): string {
  return `${formatEther(value)} ETH`
}

/** Decodes a call: target, value, and function + args when some known ABI has the selector. */
export function decodeCall(call: {
  to: Address
  data?: Hex | undefined
  value?: bigint | undefined
}): DecodedCall {
  const data = call.data ?? '0x'
  const value = call.value ?? 0n
  const base = { to: call.to, value, valueText: formatEth(value), data }
  if (data === '0x')
    return { ...base, functionName: 'ETH transfer', abiName: undefined, args: [], tokenAmount: undefined }
  for (const { name, abi } of knownAbis) {
    try {
      const decoded = decodeFunctionData({ abi, data })
      const item = abi.find((entry) => entry.type === 'function' && entry.name === decoded.functionName) as
        | { inputs?: readonly { name?: string; type: string }[] }
        | undefined
      const args = (decoded.args ?? []).map((arg, index) => ({
        name: item?.inputs?.[index]?.name || `arg${index}`,
        value: formatValue(arg),
      }))
      const first = decoded.args?.[0]
      if (
        name === 'SessionKeyValidator' &&
        decoded.functionName === 'createSession' &&
        typeof first === 'string'
      ) {
        const session = unpackSpec(first as Hex)
        args[0] = { name: 'spec', value: session.text }
        return {
          ...base,
          functionName: decoded.functionName,
          abiName: name,
          args,
          tokenAmount: undefined,
          sessionSpec: session.spec,
        }
      }
      const last = decoded.args?.at(-1)
      const tokenAmount =
        name === 'ERC-20' &&
        ['transfer', 'approve', 'transferFrom'].includes(decoded.functionName) &&
        typeof last === 'bigint'
          ? last
          : undefined
      return { ...base, functionName: decoded.functionName, abiName: name, args, tokenAmount }
    } catch {
      // Not this ABI.
    }
  }
  return { ...base, functionName: undefined, abiName: undefined, args: [], tokenAmount: undefined }
}

/** The packed spec of `createSession` as readable JSON, or why it is malformed (the raw bytes are still shown). */
function unpackSpec(packed: Hex): { spec: SessionSpec | undefined; text: string } {
  try {
    const spec = decodeSessionSpec(packed)
    return { spec, text: formatValue(spec) }
  } catch (error) {
    if (!(error instanceof InvalidSessionSpecEncodingError)) throw error
    return { spec: undefined, text: `malformed packed spec (${error.shortMessage}): ${packed}` }
  }
}

/** A `personal_sign` message as text when it is valid UTF-8 (without control characters), else undefined. */
export function messageText(message: Hex): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(hexToBytes(message))
    // Printable text only: tabs and newlines are fine, other control characters mean binary data.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return undefined
    return text
  } catch {
    return undefined
  }
}
