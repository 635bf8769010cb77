/**
 * The indexer's HTTP API (docs/dashboard.md, "The indexer"), besides Ponder's own `/health`, `/ready`, `/status`:
 *
 *   GET /history/<chainId>/<account>?before=<block>:<position>&limit=<n>
 *     the account's rows, newest first, older than `before`; `{ entries, next }`, bigints as decimal strings
 *   /sql/*   read-only SQL over HTTP (`@ponder/client`)
 */

import { db } from 'ponder:api'
import schema, { entry } from 'ponder:schema'
import { Hono } from 'hono'
import { and, client, desc, eq, lt, or } from 'ponder'

const app = new Hono()

app.use('/sql/*', client({ db, schema }))

app.get('/history/:chainId/:account', async (c) => {
  const chainId = Number(c.req.param('chainId'))
  const account = c.req.param('account').toLowerCase()
  const before = c.req.query('before')
  const limit = Number(c.req.query('limit') ?? '20')
  if (!Number.isInteger(chainId) || chainId < 1)
    return c.json({ error: 'chainId must be a positive integer' }, 400)
  if (!/^0x[0-9a-f]{40}$/.test(account)) return c.json({ error: 'account must be an address' }, 400)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000)
    return c.json({ error: 'limit must be an integer from 1 to 1000' }, 400)
  const cursor = before === undefined ? undefined : /^(\d+):(\d+)$/.exec(before)
  if (cursor === null) return c.json({ error: 'before must be <block>:<position>' }, 400)
  const mine = and(eq(entry.chainId, chainId), eq(entry.account, account as `0x${string}`))
  const older = cursor
    ? or(
        lt(entry.blockNumber, BigInt(cursor[1]!)),
        and(eq(entry.blockNumber, BigInt(cursor[1]!)), lt(entry.position, BigInt(cursor[2]!))),
      )
    : undefined
  const rows = await db
    .select()
    .from(entry)
    .where(older ? and(mine, older) : mine)
    .orderBy(desc(entry.blockNumber), desc(entry.position))
    .limit(limit + 1)
  const shown = rows.slice(0, limit)
  const last = shown.at(-1)
  return c.json({
    entries: shown.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([key, value]) => [
          key,
          typeof value === 'bigint' ? value.toString() : value,
        ]),
      ),
    ),
    next: rows.length > limit && last ? `${last.blockNumber}:${last.position}` : null,
  })
})

export default app
