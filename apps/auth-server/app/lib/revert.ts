/**
 * Why a transaction would revert, in words: the revert data a bundler returns during simulation decoded as
 * `Error(string)`, `Panic(uint256)`, a custom error of our contracts or a standard token error (ERC-6093, the
 * OpenZeppelin ERC-20 / ERC-721 / ERC-1155 errors).
 */
import {
  accountFactoryAbi,
  allowanceExecutorAbi,
  guardianExecutorAbi,
  sessionKeyValidatorAbi,
  sponsorPaymasterAbi,
  ssoAccountAbi,
  webAuthnValidatorAbi,
} from '@sso/contracts-abi'
import { type Abi, decodeErrorResult, type Hex, parseAbi } from 'viem'
import { formatAmount } from './format'

/** ERC-6093 token errors (what OpenZeppelin's ERC-20, ERC-721 and ERC-1155 revert with). */
const tokenErrorsAbi = parseAbi([
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InvalidSender(address sender)',
  'error ERC20InvalidReceiver(address receiver)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
  'error ERC20InvalidApprover(address approver)',
  'error ERC20InvalidSpender(address spender)',
  'error ERC721InvalidOwner(address owner)',
  'error ERC721NonexistentToken(uint256 tokenId)',
  'error ERC721IncorrectOwner(address sender, uint256 tokenId, address owner)',
  'error ERC721InvalidSender(address sender)',
  'error ERC721InvalidReceiver(address receiver)',
  'error ERC721InsufficientApproval(address operator, uint256 tokenId)',
  'error ERC721InvalidApprover(address approver)',
  'error ERC721InvalidOperator(address operator)',
  'error ERC1155InsufficientBalance(address sender, uint256 balance, uint256 needed, uint256 tokenId)',
  'error ERC1155InvalidReceiver(address receiver)',
  'error ERC1155MissingApprovalForAll(address operator, address owner)',
])

/** Every error this module can name, without duplicates (the contracts share some OpenZeppelin errors). */
const knownErrors: Abi = [
  ...webAuthnValidatorAbi,
  ...sessionKeyValidatorAbi,
  ...guardianExecutorAbi,
  ...allowanceExecutorAbi,
  ...ssoAccountAbi,
  ...accountFactoryAbi,
  ...sponsorPaymasterAbi,
  ...tokenErrorsAbi,
].filter(
  (item, index, all) =>
    item.type === 'error' &&
    all.findIndex((other) => other.type === 'error' && other.name === item.name) === index,
)

/** Solidity panic codes (`Panic(uint256)`). */
const panics: Record<number, string> = {
  1: 'an assertion failed',
  17: 'an arithmetic operation overflowed or underflowed',
  18: 'division or modulo by zero',
  33: 'a value out of an enum’s range',
  34: 'a badly encoded storage byte array',
  49: 'pop() on an empty array',
  50: 'an array index out of bounds',
  65: 'too much memory allocated',
  81: 'a call to an uninitialised function',
}

/** A decoded revert. */
export type Revert = {
  /** The error's name: `Error` for a reason string, `Panic`, a custom error's name, or undefined when unknown. */
  name: string | undefined
  /** Its arguments, as strings (bigints and addresses as text, so the result can be posted). */
  args: string[]
  /** What a person reads. */
  text: string
  /** The raw revert data. */
  data: Hex
}

/**
 * Decodes revert data.
 *
 * @example
 * ```ts
 * decodeRevert('0x08c379a0…').text // 'Not enough balance'
 * decodeRevert('0xe450d38c…').text // 'ERC20InsufficientBalance(sender 0x…, balance 0, needed 1000)'
 * decodeRevert('0xe450d38c…', { token: { symbol: 'DUSD', decimals: 6 } }).text
 * // 'not enough DUSD: 0x… holds 0 DUSD and needs 0.001 DUSD (ERC20InsufficientBalance)'
 * ```
 *
 * `token`: the ERC-20 the calls went to, when there is one: its balance and allowance errors are then written in
 * its units.
 */
export function decodeRevert(
  data: Hex,
  options: { token?: { symbol: string; decimals: number } | undefined } = {},
): Revert {
  if (data === '0x') return { name: undefined, args: [], text: 'it reverted without a reason', data }
  try {
    const decoded = decodeErrorResult({ abi: knownErrors, data })
    const args = (decoded.args ?? []).map((arg) => String(arg))
    if (decoded.errorName === 'Error') return { name: 'Error', args, text: args[0] ?? '', data }
    if (decoded.errorName === 'Panic') {
      const code = Number(decoded.args?.[0] ?? 0)
      const meaning = panics[code] ?? 'an unknown panic'
      return { name: 'Panic', args, text: `Panic 0x${code.toString(16)}: ${meaning}`, data }
    }
    const { token } = options
    const units = (i: number) => formatAmount(BigInt(args[i] ?? 0), token?.decimals ?? 0, token?.symbol ?? '')
    if (token && decoded.errorName === 'ERC20InsufficientBalance')
      return {
        name: decoded.errorName,
        args,
        text: `not enough ${token.symbol}: ${args[0]} holds ${units(1)} and needs ${units(2)} (ERC20InsufficientBalance)`,
        data,
      }
    if (token && decoded.errorName === 'ERC20InsufficientAllowance')
      return {
        name: decoded.errorName,
        args,
        text: `${args[0]} may spend ${units(1)} and needs ${units(2)} (ERC20InsufficientAllowance)`,
        data,
      }
    const inputs = decoded.abiItem.type === 'error' ? decoded.abiItem.inputs : []
    const named = args.map((arg, i) => (inputs[i]?.name ? `${inputs[i].name} ${arg}` : arg))
    return { name: decoded.errorName, args, text: `${decoded.errorName}(${named.join(', ')})`, data }
  } catch {
    return { name: undefined, args: [], text: `an unknown error ${data.slice(0, 10)}`, data }
  }
}

/**
 * The revert data inside a bundler's simulation error (viem `UserOperationExecutionError`: "UserOperation
 * reverted during simulation with reason: 0x…"), or undefined when the error is not a revert.
 */
export function revertDataOf(error: unknown): Hex | undefined {
  const texts: string[] = []
  for (let e = error as { details?: unknown; message?: unknown; cause?: unknown } | undefined; e; ) {
    for (const text of [e.details, e.message]) if (typeof text === 'string') texts.push(text)
    e = e.cause as typeof e
  }
  for (const text of texts) {
    // EntryPoint codes (AA1x-AA5x) are validation failures, not reverts of the calls.
    if (/\bAA[1-5]\d\b/.test(text)) return undefined
    const found = /reverted during simulation with reason: (0x[0-9a-fA-F]*)/.exec(text)
    if (found?.[1] && found[1].length % 2 === 0) return found[1] as Hex
  }
  return undefined
}
