import { expect, test } from 'vitest'
import * as devnet from './index.js'

test('behavior: the public exports', () => {
  expect(Object.keys(devnet).sort()).toMatchInlineSnapshot(`
    [
      "ChildProcessError",
      "DeploymentMismatchError",
      "DevnetError",
      "InvalidOptionError",
      "PaymasterServiceError",
      "PortInUseError",
      "altoService",
      "analyzeValidationTrace",
      "anvilKeys",
      "anvilService",
      "checkUserOperation",
      "createSponsor",
      "defaultMinStake",
      "defaultMinUnstakeDelay",
      "defaultPrecompiles",
      "demoToken",
      "devnetSponsorshipPolicy",
      "formatViolations",
      "increaseTime",
      "paymasterErrorCodes",
      "readStake",
      "resetTime",
      "startPaymasterService",
      "startStack",
      "startStaticServer",
    ]
  `)
})
