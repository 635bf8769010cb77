import {
  encodeSessionSpec,
  lifetime,
  type SessionSpec,
  sessionKeyValidatorAbi,
  transferPolicy,
} from '@sso/client/session'
import { sponsorPaymasterAbi } from '@sso/contracts-abi'
import { encodeFunctionData, erc20Abi, parseEther, stringToHex } from 'viem'
import { expect, test } from 'vitest'
import { decodeCall, formatValue, messageText } from './decode'

const to = '0x1111111111111111111111111111111111111111'
const bob = '0x2222222222222222222222222222222222222222'

test('behavior: an ERC-20 transfer is decoded with named args', () => {
  const data = encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [bob, 1234n] })
  const call = decodeCall({ to, data })
  expect(call.functionName).toBe('transfer')
  expect(call.abiName).toBe('ERC-20')
  expect(call.args).toEqual([
    { name: 'recipient', value: bob },
    { name: 'amount', value: '1234' },
  ])
  expect(call.valueText).toBe('0 ETH')
  expect(call.tokenAmount).toBe(1234n)
})

test('behavior: an ERC-20 approve is decoded', () => {
  const data = encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [bob, 2n ** 256n - 1n] })
  expect(decodeCall({ to, data }).functionName).toBe('approve')
})

test('behavior: our contracts are decoded by their ABIs', () => {
  const data = encodeFunctionData({ abi: sponsorPaymasterAbi, functionName: 'deposit' })
  const call = decodeCall({ to, data, value: parseEther('1.5') })
  expect(call.functionName).toBe('deposit')
  expect(call.abiName).toBe('SponsorPaymaster')
  expect(call.valueText).toBe('1.5 ETH')
})

test('behavior: a plain value transfer and an unknown selector', () => {
  expect(decodeCall({ to, value: parseEther('0.0123') })).toMatchObject({
    functionName: 'ETH transfer',
    valueText: '0.0123 ETH',
  })
  const unknown = decodeCall({ to, data: '0xdeadbeef00' })
  expect(unknown.functionName).toBeUndefined()
  expect(unknown.data).toBe('0xdeadbeef00')
})

test('behavior: messages are text when printable UTF-8, else undefined (shown as hex)', () => {
  expect(messageText(stringToHex('Hello, wörld\nline 2'))).toBe('Hello, wörld\nline 2')
  expect(messageText('0xff00fe')).toBeUndefined()
  expect(messageText(stringToHex('bell\u0007'))).toBeUndefined()
})

test('behavior: formatValue prints bigints and nested values', () => {
  expect(formatValue(10n ** 30n)).toBe('1000000000000000000000000000000')
  expect(formatValue({ a: 1n, b: ['x'] })).toContain('"a": "1"')
})

test('behavior: createSession(bytes) shows the unpacked spec; malformed bytes are named, not hidden', () => {
  const spec: SessionSpec = {
    signer: '0x6666666666666666666666666666666666666666',
    expiresAt: 2_000_000_000,
    feeLimit: lifetime(parseEther('0.01')),
    callPolicies: [],
    transferPolicies: [transferPolicy({ target: bob, maxValuePerUse: 7n, valueLimit: lifetime(9n) })],
  }
  const create = (packed: `0x${string}`) =>
    encodeFunctionData({ abi: sessionKeyValidatorAbi, functionName: 'createSession', args: [packed] })
  const call = decodeCall({ to, data: create(encodeSessionSpec(spec)) })
  expect(call.functionName).toBe('createSession')
  expect(call.abiName).toBe('SessionKeyValidator')
  expect(call.sessionSpec).toEqual(spec)
  expect(call.args).toHaveLength(1)
  expect(call.args[0]?.name).toBe('spec')
  expect(call.args[0]?.value).toContain('"maxValuePerUse": "7"')
  expect(call.args[0]?.value).toContain(bob)

  const bad = decodeCall({ to, data: create(`${encodeSessionSpec(spec)}00`) })
  expect(bad.functionName).toBe('createSession')
  expect(bad.sessionSpec).toBeUndefined()
  expect(bad.args[0]?.value).toMatch(
    /^malformed packed spec \(Invalid packed session spec at byte 98: 1 trailing/,
  )
})
