import { webAuthnValidatorAbi } from '@sso/contracts-abi'
import { BaseError, encodeErrorResult, parseAbi } from 'viem'
import { UserOperationExecutionError } from 'viem/account-abstraction'
import { expect, test } from 'vitest'
import { decodeRevert, revertDataOf } from './revert'

const account = '0x1111111111111111111111111111111111111111'

test('behavior: reason strings, panics, our custom errors and token errors are named with their arguments', () => {
  const reason = encodeErrorResult({
    abi: parseAbi(['error Error(string)']),
    errorName: 'Error',
    args: ['Not enough tokens'],
  })
  expect(decodeRevert(reason)).toMatchObject({ name: 'Error', text: 'Not enough tokens' })
  const panic = encodeErrorResult({
    abi: parseAbi(['error Panic(uint256)']),
    errorName: 'Panic',
    args: [0x11n],
  })
  expect(decodeRevert(panic).text).toBe('Panic 0x11: an arithmetic operation overflowed or underflowed')
  const ours = encodeErrorResult({
    abi: webAuthnValidatorAbi,
    errorName: 'PasskeyNotRegistered',
    args: [account, '0xbeef'],
  })
  expect(decodeRevert(ours)).toEqual({
    name: 'PasskeyNotRegistered',
    args: [account, '0xbeef'],
    text: `PasskeyNotRegistered(account ${account}, credentialId 0xbeef)`,
    data: ours,
  })
  const token = encodeErrorResult({
    abi: parseAbi(['error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)']),
    errorName: 'ERC20InsufficientBalance',
    args: [account, 5n, 1000n],
  })
  expect(decodeRevert(token).text).toBe(`ERC20InsufficientBalance(sender ${account}, balance 5, needed 1000)`) // With the token the calls went to: in its units.
  const dusd = { symbol: 'DUSD', decimals: 6 }
  expect(decodeRevert(token, { token: dusd }).text).toBe(
    `not enough DUSD: ${account} holds 0.000005 DUSD and needs 0.001 DUSD (ERC20InsufficientBalance)`,
  )
  const allowance = encodeErrorResult({
    abi: parseAbi(['error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)']),
    errorName: 'ERC20InsufficientAllowance',
    args: [account, 1_500_000n, 2_000_000n],
  })
  expect(decodeRevert(allowance, { token: dusd }).text).toBe(
    `${account} may spend 1.5 DUSD and needs 2 DUSD (ERC20InsufficientAllowance)`,
  )
})

test('error: empty and unknown revert data still read as a sentence', () => {
  expect(decodeRevert('0x').text).toBe('it reverted without a reason')
  expect(decodeRevert('0xdeadbeef00').text).toBe('an unknown error 0xdeadbeef')
})

test('behavior: the revert data is found in a bundler simulation error; validation failures (AA codes) are not reverts', () => {
  const data = '0xbc3778a5'
  const simulated = new UserOperationExecutionError(
    new BaseError(
      `Execution reverted with reason: UserOperation reverted during simulation with reason: ${data}.`,
    ),
    {} as never,
  )
  expect(revertDataOf(simulated)).toBe(data)
  const prefund = new UserOperationExecutionError(
    new BaseError('UserOperation reverted during simulation with reason: AA21 didn’t pay prefund'),
    {} as never,
  )
  expect(revertDataOf(prefund)).toBe(undefined)
  expect(revertDataOf(new Error('fetch failed'))).toBe(undefined)
})
