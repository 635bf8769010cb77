#!/usr/bin/env node
// forge cannot download native solc on this machine, so it drives npm's solcjs through this wrapper.
// forge calls `<solc> --version` and `<solc> --standard-json --base-path <p> --include-path <p> ...`
// with the standard-JSON input on stdin.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const solc = require('solc')

const args = process.argv.slice(2)

if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
  process.exit(0)
}

const roots = []
for (let i = 0; i < args.length; i++) {
  const arg = args[i]
  if ((arg === '--base-path' || arg === '--include-path' || arg === '--allow-paths') && args[i + 1]) {
    for (const p of args[i + 1].split(',')) if (p) roots.push(path.resolve(p))
    i++
  } else if (arg.startsWith('--base-path=') || arg.startsWith('--include-path=')) {
    roots.push(path.resolve(arg.slice(arg.indexOf('=') + 1)))
  }
}
roots.push(process.cwd())

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.join(root, importPath))
  for (const candidate of candidates) {
    try {
      return { contents: fs.readFileSync(candidate, 'utf8') }
    } catch {}
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` }
}

const input = fs.readFileSync(0, 'utf8')
process.stdout.write(solc.compile(input, { import: findImport }))
