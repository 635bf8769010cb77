import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ChildProcessError } from '../Errors.js'
import { runToCompletion, spawnChild, waitHealthy } from './Child.js'

let logDir: string
beforeAll(() => {
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sso-child-'))
})
afterAll(() => {
  fs.rmSync(logDir, { recursive: true, force: true })
})

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('error: a child that dies before it is healthy is reported with the tail of its log', async () => {
  const child = spawnChild({
    name: 'dies',
    command: process.execPath,
    args: ['-e', 'console.log("starting"); console.error("boom: no such chain"); process.exit(3)'],
    logDir,
  })
  const error = await waitHealthy(child, async () => false, { timeoutMs: 5000, what: 'never' }).catch(
    (e) => e,
  )
  expect(error).toBeInstanceOf(ChildProcessError)
  expect(error.message).toContain('dies exited (3)')
  expect(error.message).toContain('boom: no such chain')
})

test('error: a child that never becomes healthy is reported after the timeout with its log', async () => {
  const child = spawnChild({
    name: 'hangs',
    command: process.execPath,
    args: ['-e', 'console.log("still warming up"); setInterval(() => {}, 1000)'],
    logDir,
  })
  try {
    // The child has written its line (node starts slowly on a loaded machine), then never becomes healthy.
    const deadline = Date.now() + 20_000
    while (!fs.readFileSync(child.logFile, 'utf8').includes('still warming up') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    const error = await waitHealthy(child, async () => false, { timeoutMs: 300, what: 'GET /' }).catch(
      (e) => e,
    )
    expect(error).toBeInstanceOf(ChildProcessError)
    expect(error.message).toContain('not healthy (GET /) within 300 ms')
    expect(error.message).toContain('still warming up')
  } finally {
    await child.stop()
  }
})

test('behavior: stop() ends the whole process group, with SIGKILL for what ignores SIGTERM', async () => {
  const pidFile = path.join(logDir, 'grandchild.pid')
  // The child starts a grandchild that ignores SIGTERM, then ignores SIGTERM itself.
  const script = `
    const { spawn } = require('node:child_process')
    const g = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid))
    process.on('SIGTERM', () => {})
    setInterval(() => {}, 1000)
  `
  const child = spawnChild({ name: 'stubborn', command: process.execPath, args: ['-e', script], logDir })
  await waitHealthy(child, async () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', {
    timeoutMs: 5000,
    what: 'grandchild started',
  })
  const grandchild = Number(fs.readFileSync(pidFile, 'utf8'))
  expect(isAlive(grandchild)).toBe(true)
  await child.stop(300)
  expect(child.hasExited()).toBe(true)
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(isAlive(grandchild)).toBe(false)
})

test('error: a failed build throws with its output', async () => {
  const error = await runToCompletion({
    name: 'build-broken',
    command: process.execPath,
    args: ['-e', 'console.error("src/App.vue: Unexpected token"); process.exit(1)'],
    cwd: logDir,
    logDir,
  }).catch((e) => e)
  expect(error).toBeInstanceOf(ChildProcessError)
  expect(error.message).toContain('exit 1')
  expect(error.message).toContain('src/App.vue: Unexpected token')
})

test('behavior: when the parent is killed outright, the watchdog ends its children', async () => {
  const pidFile = path.join(logDir, 'orphan.pid')
  const script = path.join(logDir, 'parent.mts')
  const childModule = new URL('./Child.ts', import.meta.url).href
  fs.writeFileSync(
    script,
    `import { spawnChild } from ${JSON.stringify(childModule)}
import * as fs from 'node:fs'
const child = spawnChild({ name: 'orphan', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], logDir: ${JSON.stringify(logDir)} })
fs.writeFileSync(${JSON.stringify(pidFile)}, String(child.pid))
setInterval(() => {}, 1000)
`,
  )
  const { spawn } = await import('node:child_process')
  const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' })
  const deadline = Date.now() + 15_000
  while (!(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8'))) {
    if (Date.now() > deadline) throw new Error('the parent never started its child')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const orphan = Number(fs.readFileSync(pidFile, 'utf8'))
  expect(isAlive(orphan)).toBe(true)
  parent.kill('SIGKILL')
  const until = Date.now() + 6000
  while (isAlive(orphan) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100))
  expect(isAlive(orphan)).toBe(false)
})
