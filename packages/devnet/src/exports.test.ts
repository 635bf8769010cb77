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
      "anvilKeys",
      "increaseTime",
      "resetTime",
      "startStack",
      "startStaticServer",
    ]
  `)
})
