/**
 * Test boundary: a scripted "auth server page" running in a fake popup (see fakeWindows.ts). It uses the real
 * popup messenger and answers each method with the given handler. Unit tests only.
 */
import { createPopupMessenger, type PopupMessenger } from '../Messenger.js'
import type { PopupRequest } from '../RpcSchema.js'
import { type FakePopup, installFakeWindows } from './fakeWindows.js'

export type FakeAnswer = { result: unknown } | { error: unknown } | 'hang'
export type FakeHandler = (
  request: PopupRequest,
  messenger: PopupMessenger,
) => FakeAnswer | Promise<FakeAnswer>

export const dappOrigin = 'http://localhost:3001'
export const authOrigin = 'http://localhost:3002'

export function installFakeAuthServer(handler: FakeHandler) {
  const messengers: PopupMessenger[] = []
  const requests: PopupRequest[] = []
  /** Errors the popup messenger threw while answering (e.g. a malformed result). */
  const thrown: unknown[] = []
  const fake = installFakeWindows({
    dappOrigin,
    authOrigin,
    onOpen(popup: FakePopup) {
      const messenger = createPopupMessenger({ window: popup })
      messengers.push(messenger)
      messenger.onRequest(async (request) => {
        requests.push(request)
        const answer = await handler(request, messenger)
        if (answer === 'hang') return
        try {
          if ('error' in answer) messenger.reject(request, answer.error)
          else messenger.respond(request, answer.result as never)
        } catch (error) {
          thrown.push(error)
        }
      })
    },
  })
  return {
    ...fake,
    requests,
    thrown,
    restore() {
      for (const messenger of messengers) messenger.destroy()
      fake.restore()
    },
  }
}
