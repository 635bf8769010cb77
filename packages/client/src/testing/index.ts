/** `@sso/client/testing`: helpers for tests and benchmarks (never for production keys). */
export { createTestPasskey, type TestPasskey, type TestPasskeyOptions } from './TestPasskey.js'
