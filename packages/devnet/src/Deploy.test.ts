import { createRequire } from 'node:module'
import { create2Address, deploymentSalt, entryPoint08 } from '@sso/contracts-abi'
import type { Hex } from 'viem'
import { expect, test } from 'vitest'
import { planContracts } from './Deploy.js'
import { DeploymentMismatchError } from './Errors.js'

test('behavior: the EntryPoint artifact and salt give the canonical v0.8 address', () => {
  const { bytecode } = createRequire(import.meta.url)(
    '@account-abstraction/contracts/artifacts/EntryPoint.json',
  ) as {
    bytecode: Hex
  }
  expect(create2Address({ salt: entryPoint08.salt, initCode: bytecode })).toBe(entryPoint08.address)
})

test('behavior: salts are fixed per contract name', () => {
  expect(deploymentSalt('AccountFactory')).toBe(deploymentSalt('AccountFactory'))
  expect(deploymentSalt('AccountFactory')).not.toBe(deploymentSalt('WebAuthnValidator'))
})

test('behavior: the planned addresses equal the committed manifest', async () => {
  const planned = await planContracts(31337)
  expect(planned.map((deployment) => deployment.key)).toEqual(
    expect.arrayContaining(['accountFactory', 'webAuthnValidator', 'sponsorPaymaster']),
  )
})

test('error: a chain without a manifest is refused', async () => {
  await expect(planContracts(1)).rejects.toBeInstanceOf(DeploymentMismatchError)
  await expect(planContracts(1)).rejects.toThrow('no chain 1')
})

test('behavior: only concrete contracts of packages/contracts/src are planned', async () => {
  const { findContracts } = await import('@sso/contracts-abi/artifacts')
  const names = findContracts().map((contract) => contract.name)
  expect(names).toEqual(
    expect.arrayContaining(['AccountFactory', 'SponsorPaymaster', 'SsoAccount', 'WebAuthnValidator']),
  )
  // Interfaces (ISessionKeyValidator), libraries and abstract contracts have no deployment.
  expect(names.filter((name) => /^I[A-Z]/.test(name))).toEqual([])
})
