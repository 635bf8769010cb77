import { expect, test } from 'vitest'
import * as devnet from './index.js'

test('behavior: the public exports', () => {
  expect(Object.keys(devnet).sort()).toMatchInlineSnapshot(`
    [
      "ChildProcessError",
      "DeploymentMismatchError",
      "DevnetError",
      "InvalidOptionError",
      "PortInUseError",
      "altoService",
      "analyzeValidationTrace",
      "anvilKeys",
      "anvilService",
      "checkUserOperation",
      "defaultMinStake",
      "defaultMinUnstakeDelay",
      "defaultPrecompiles",
      "demoToken",
      "formatViolations",
      "increaseTime",
      "readStake",
      "resetTime",
      "startStack",
      "startStaticServer",
    ]
  `)
})
