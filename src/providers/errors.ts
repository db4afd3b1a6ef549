/**
 * One error type for every upstream failure. The message is always safe to
 * show a client: it never carries a raw upstream body or a key.
 */

/** The codes an adapter reports: what went wrong where HTTP was met. */
export const PROVIDER_ERROR_CODES = [
  'rate_limited',
  'overloaded',
  'timeout',
  'auth_failed',
  'bad_request',
  'context_length_exceeded',
  'upstream_error',
  'network_error',
  'cancelled',
  'internal',
] as const;

export type ProviderErrorCode = (typeof PROVIDER_ERROR_CODES)[number];

/** What a failure code means for the call: retry it? does it count against the upstream's health? */
export interface ErrorPolicy {
  /** Another attempt may succeed (an error can still say no, e.g. an exhausted quota). */
  retryable: boolean;
  /** The upstream is unwell or pushing back: the model's circuit breaker counts it. */
  countsForBreaker: boolean;
}

/**
 * The one table both the retry loop and the circuit breaker read. Not counted
 * by the breaker: cancelled (the caller's own doing), bad_request and
 * context_length_exceeded (the request's fault), auth_failed (a configuration
 * fault: the key is wrong for every call alike, and `auth_failed` says more
 * than `circuit_open` would), internal (our own bug).
 */
export const PROVIDER_ERROR_POLICY: Readonly<Record<ProviderErrorCode, ErrorPolicy>> = Object.freeze({
  rate_limited: { retryable: true, countsForBreaker: true },
  overloaded: { retryable: true, countsForBreaker: true },
  timeout: { retryable: true, countsForBreaker: true },
  upstream_error: { retryable: true, countsForBreaker: true },
  network_error: { retryable: true, countsForBreaker: true },
  auth_failed: { retryable: false, countsForBreaker: false },
  bad_request: { retryable: false, countsForBreaker: false },
  context_length_exceeded: { retryable: false, countsForBreaker: false },
  cancelled: { retryable: false, countsForBreaker: false },
  internal: { retryable: false, countsForBreaker: false },
});

export interface ProviderErrorOptions {
  code: ProviderErrorCode;
  message: string;
  /** Only narrows the table: `false` keeps a retryable code from being retried (an exhausted quota). */
  retryable?: boolean;
  retryAfterMs?: number | undefined;
  status?: number | undefined;
  upstreamRequestId?: string | undefined;
  provider?: string | undefined;
  cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  readonly upstreamRequestId: string | undefined;
  readonly provider: string | undefined;

  constructor(options: ProviderErrorOptions) {
    // The upstream cause (an SDK error) can carry the raw body, which may echo a key: it is
    // deliberately not attached, so no log line or answer can ever include it.
    super(options.message);
    this.code = options.code;
    this.retryable = PROVIDER_ERROR_POLICY[options.code].retryable && options.retryable !== false;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.upstreamRequestId = options.upstreamRequestId;
    this.provider = options.provider;
  }

  /** What a record or event shows: code and the safe message only. */
  toJSON(): { code: ProviderErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}

/** Errors that are the caller's own cancellation, never an upstream failure. */
export function cancelledError(message = 'The call was cancelled.'): ProviderError {
  return new ProviderError({ code: 'cancelled', message, retryable: false });
}

/** The error for an aborted signal: a timeout when the reason says so, otherwise a cancellation. */
export function abortedError(signal: AbortSignal, provider?: string): ProviderError {
  const reason = signal.reason as { name?: string } | undefined;
  if (reason?.name === 'TimeoutError') {
    return new ProviderError({
      code: 'timeout',
      message: 'The model call timed out.',
      retryable: true,
      provider,
    });
  }
  return cancelledError();
}
