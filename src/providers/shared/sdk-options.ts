/** What every provider SDK client is built with (both SDKs take the same options). */

/**
 * The SDK's own timeout only covers the wait for response headers; the
 * caller's `request.signal` is the timeout that matters. This is a backstop
 * for a caller that forgets one.
 */
export const SDK_BACKSTOP_TIMEOUT_MS = 15 * 60_000;

/**
 * Options for every provider request, for a fetch given in place of the
 * provider fetch (which never follows redirects). A provider API answers; it
 * does not redirect — and with redirects off and no window, the global fetch
 * skips copying the request (a tee of its body stream) before sending it, a
 * measurable share of a call's CPU. A redirect then fails the call as a
 * connection error.
 */
export const PROVIDER_FETCH_OPTIONS = { redirect: 'error', window: null } as const satisfies RequestInit;
