#!/usr/bin/env node
/**
 * `pnpm check:tests` (part of `pnpm check`): refuses test assertions that cannot fail for the right reason.
 *
 * A test of an error must say which error: its class, its code and the message a user would see. A bare
 * `toThrow()` passes for any error at all (a typo, a TypeError, a timeout), and a swallowed rejection passes for
 * everything. Scanned: every `*.test.ts` / `*.spec.ts` under packages/, apps/ and playwright/ (not node_modules or
 * build output). Refused:
 *
 * - `toThrow()` / `toThrowError()` / `rejects.toThrow()` with no expected class or message, and the same with the
 *   base class `Error` (`toThrow(Error)`, `toBeInstanceOf(Error)`), which every error is;
 * - `rejects.toBeTruthy()` / `rejects.toBeDefined()`, and `toBeDefined()` / `not.toBeUndefined()` anywhere (assert
 *   the value instead);
 * - rejections swallowed: `.catch(() => {})`, `.catch(() => undefined)`, `.catch(() => null)`;
 * - empty `catch {}` blocks.
 *
 * A line that really needs one of these says why in a comment on it or on the line above:
 * `// check-tests: allow <reason>`.
 *
 * Usage: `node scripts/check-test-assertions.mjs [dir…]` (default: packages apps playwright). Exit 1 with one
 * `file:line: rule: text` per finding; exit 2 when the rules themselves fail their self-test below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Each rule: a name, what to do instead, and a pattern over the whole file (so `toThrow(\n)` is found too). */
const rules = [
  {
    name: 'bare toThrow',
    hint: 'name the error class and message: toThrow(SomeError) and check code / shortMessage',
    pattern: /\.toThrow(?:Error)?\(\s*(?:Error\s*)?\)/g,
  },
  {
    name: 'instance of Error',
    hint: 'every error is an Error: assert the specific class',
    pattern: /\.toBeInstanceOf\(\s*Error\s*\)/g,
  },
  {
    name: 'rejects without an error',
    hint: 'assert the rejection: class, code and message',
    pattern: /\.rejects\.(?:toBeTruthy|toBeDefined|toBeFalsy)\(\s*\)/g,
  },
  {
    name: 'toBeDefined',
    hint: 'assert what the value is (toBe / toEqual / toMatch / toMatchObject)',
    pattern: /\.(?:toBeDefined\(\s*\)|not\.toBeUndefined\(\s*\))/g,
  },
  {
    name: 'swallowed rejection',
    hint: 'keep the error and assert it, or let it fail the test',
    pattern: /\.catch\(\s*(?:\(\s*\w*\s*\)|\w+)\s*=>\s*(?:\{\s*\}|undefined|null|void 0)\s*\)/g,
  },
  {
    name: 'empty catch',
    hint: 'assert the error, or let it fail the test',
    pattern: /\bcatch\s*(?:\(\s*\w*\s*\))?\s*\{\s*\}/g,
  },
]

const allow = /check-tests: allow \S/

/** Findings in one file's text: `{ line, rule, text }`. */
export function findWeakAssertions(text) {
  const lines = text.split('\n')
  const findings = []
  for (const rule of rules) {
    for (const match of text.matchAll(rule.pattern)) {
      const line = text.slice(0, match.index).split('\n').length
      if (allow.test(lines[line - 1] ?? '') || allow.test(lines[line - 2] ?? '')) continue
      findings.push({ line, rule: rule.name, hint: rule.hint, text: (lines[line - 1] ?? '').trim() })
    }
  }
  return findings.sort((a, b) => a.line - b.line)
}

// The rules must catch what they are for and nothing else: checked on every run.
function selfTest() {
  const bad = [
    'await expect(p).rejects.toThrow()',
    'expect(() => f()).toThrow()',
    'expect(() => f()).toThrowError( )',
    'expect(() => f()).toThrow(\n)',
    'expect(() => f()).toThrow(Error)',
    'expect(error).toBeInstanceOf(Error)',
    'await expect(p).rejects.toBeTruthy()',
    'await expect(p).rejects.toBeDefined()',
    'expect(value).toBeDefined()',
    'expect(value).not.toBeUndefined()',
    'await send().catch(() => {})',
    'await send().catch((e) => undefined)',
    'await send().catch(() => null)',
    'try { f() } catch {}',
    'try { f() } catch (error) { }',
  ]
  const good = [
    'await expect(p).rejects.toThrow(InvalidParamsError)',
    'expect(() => f()).toThrow(/at least one call/)',
    "expect(() => f()).toThrowError('ports.rpc must be')",
    'expect(error).toBeInstanceOf(UserRejectedRequestError)',
    'expect(value).toBeUndefined()',
    'const error = await p.catch((e) => e)',
    'try { f() } catch (error) { thrown = error }',
    'expect(value).toBeDefined() // check-tests: allow the API under test only promises presence',
  ]
  const wrong = [
    ...bad.filter((text) => findWeakAssertions(text).length === 0).map((text) => `not caught: ${text}`),
    ...good.filter((text) => findWeakAssertions(text).length > 0).map((text) => `caught wrongly: ${text}`),
  ]
  if (wrong.length > 0) {
    console.error(`check-test-assertions: the rules fail their self-test:\n  ${wrong.join('\n  ')}`)
    process.exit(2)
  }
}

const skip = new Set(['node_modules', '.nuxt', '.output', 'dist', 'out', 'generated', 'test-results', '.git'])

function* testFiles(dir) {
  for (const entry of readdirSync(dir)) {
    if (skip.has(entry)) continue
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) yield* testFiles(path)
    else if (/\.(test|spec)\.ts$/.test(entry)) yield path
  }
}

function main() {
  selfTest()
  const dirs = process.argv.slice(2)
  const roots =
    dirs.length > 0
      ? dirs.map((d) => resolve(d))
      : ['packages', 'apps', 'playwright'].map((d) => join(root, d))
  let count = 0
  let files = 0
  for (const dir of roots) {
    for (const file of testFiles(dir)) {
      files++
      for (const finding of findWeakAssertions(readFileSync(file, 'utf8'))) {
        count++
        console.error(
          `${relative(root, file)}:${finding.line}: ${finding.rule}: ${finding.text}\n    -> ${finding.hint}`,
        )
      }
    }
  }
  if (count > 0) {
    console.error(
      `\n${count} weak assertion(s) in test files. Assert the error class, its code and the message a user sees` +
        ' (or explain with `// check-tests: allow <reason>`).',
    )
    process.exit(1)
  }
  console.log(`check-test-assertions: ${files} test files, no weak assertions.`)
}

main()
