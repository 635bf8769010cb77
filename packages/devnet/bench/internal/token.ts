import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Abi, Hex } from 'viem'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))

type SolcOutput = {
  errors?: { severity: string; formattedMessage: string }[]
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
}

/**
 * Compiles bench/internal/BenchToken.sol (an OpenZeppelin ERC20) with solcjs, optimizer on, osaka: the token
 * every column of the gas table transfers.
 */
export function compileBenchToken(): { abi: Abi; bytecode: Hex } {
  const solc = require('solc') as { compile: (input: string, callbacks: object) => string }
  const input = {
    language: 'Solidity',
    sources: { 'BenchToken.sol': { content: fs.readFileSync(path.join(here, 'BenchToken.sol'), 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'osaka',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  }
  const findImports = (importPath: string) => {
    try {
      return { contents: fs.readFileSync(require.resolve(importPath), 'utf8') }
    } catch {
      return { error: `not found: ${importPath}` }
    }
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as SolcOutput
  const errors = (output.errors ?? []).filter((error) => error.severity === 'error')
  if (errors.length > 0) throw new Error(errors.map((error) => error.formattedMessage).join('\n'))
  const contract = output.contracts?.['BenchToken.sol']?.BenchToken
  if (!contract) throw new Error('solc produced no BenchToken')
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` }
}
