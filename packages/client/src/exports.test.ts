import { expect, test } from 'vitest'
import * as account from './entry/account.js'
import * as popup from './entry/popup.js'
import * as session from './entry/session.js'
import * as index from './index.js'
import * as modules from './Modules.js'
import * as recovery from './Recovery.js'
import * as schema from './RpcSchema.js'
import * as testing from './testing/index.js'
import * as webauthn from './WebAuthn.js'
import * as wagmi from './wagmi.js'

// A change of the public API shows up here in review.
test('behavior: public export lists', () => {
  expect({
    account: Object.keys(account).sort(),
    index: Object.keys(index).sort(),
    modules: Object.keys(modules).sort(),
    popup: Object.keys(popup).sort(),
    recovery: Object.keys(recovery).sort(),
    schema: Object.keys(schema).sort(),
    session: Object.keys(session).sort(),
    testing: Object.keys(testing).sort(),
    wagmi: Object.keys(wagmi).sort(),
    webauthn: Object.keys(webauthn).sort(),
  }).toMatchSnapshot()
})
