/** The chain's latest block time, kept fresh by the session panel (the session manager validates expiry with it). */
export const chainClock = { now: undefined as number | undefined }
