/**
 * An indexer in front of the node (docs/dashboard.md, "The indexer"): each page comes from the indexer while it
 * answers and has caught up with the node, otherwise from the node-logs source, and the source's `kind` and
 * `description` say which one answered the last page. Both sources' cursors are `<block>:<order>` positions ("older
 * than this"), so a history continues across a switch.
 */

import { errorLine } from '../errors'
import type { HistoryCursor, HistoryPage, HistorySource } from './HistorySource'

/**
 * @example
 * ```ts
 * const source = withFallback(createIndexerSource({ … }), createNodeLogsSource({ … }))
 * const page = await source.page(undefined, 20)
 * source.description // "indexer (127.0.0.1:42069)" or "node logs (…): the indexer at … does not answer"
 * ```
 */
export function withFallback(primary: HistorySource, fallback: HistorySource): HistorySource {
  let current: { kind: HistorySource['kind']; description: string } = primary
  return {
    get kind() {
      return current.kind
    },
    get description() {
      return current.description
    },
    async page(cursor: HistoryCursor | undefined, limit: number): Promise<HistoryPage> {
      try {
        const page = await primary.page(cursor, limit)
        current = primary
        return page
      } catch (error) {
        const reason = errorLine(error)
        const page = await fallback.page(cursor, limit)
        current = { kind: fallback.kind, description: `${fallback.description}: ${reason}` }
        return page
      }
    },
  }
}
