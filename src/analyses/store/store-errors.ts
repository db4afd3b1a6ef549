/**
 * The store does not answer now (Redis down, unreachable, restarting or too
 * slow): nothing is wrong with the request, and it can be tried again.
 */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
}

/** Socket errors of a store that cannot be reached. */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * How ioredis and Redis say "not now": a closed or unwritable connection (no
 * offline queue), a command past its timeout, a command dropped with its
 * connection, and a server that is loading, failing over or busy.
 */
const OUTAGE_MESSAGES = [
  /^Connection is closed/,
  /^Stream isn't writeable/,
  /^Command timed out/,
  /max retries per request/i,
  /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY)\b/,
];

/** Whether an error means the store is unavailable (and not that the request or the code is wrong). */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailable) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return OUTAGE_MESSAGES.some((pattern) => pattern.test(error.message));
}

/** The error as a StoreUnavailable when it is an outage (its cause kept), else unchanged. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailable || !isStoreUnavailable(error)) return error;
  return new StoreUnavailable(`The store does not answer: ${(error as Error).message}`, { cause: error });
}
