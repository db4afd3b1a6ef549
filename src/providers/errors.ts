/**
 * One error type for every upstream failure. The message is always safe to
 * show a client: it never carries a raw upstream body or a key.
 */

export const ERROR_CODES = [
  'rate_limited',
  'overloaded',
  'timeout',
  'circuit_open',
  'auth_failed',
  'bad_request',
  'context_length_exceeded',
  'upstream_error',
  'network_error',
  'cancelled',
  'quorum_not_met',
  'budget_exceeded',
  'worker_lost',
  'shutdown',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProviderErrorOptions {
  code: ErrorCode;
  message: string;
  retryable?: boolean;
  retryAfterMs?: number | undefined;
  status?: number | undefined;
  upstreamRequestId?: string | undefined;
  provider?: string | undefined;
  cause?: unknown;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'rate_limited',
  'overloaded',
  'timeout',
  'upstream_error',
  'network_error',
]);

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: ErrorCode;
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
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(options.code);
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.upstreamRequestId = options.upstreamRequestId;
    this.provider = options.provider;
  }

  /** What a record or event shows: code and the safe message only. */
  toJSON(): { code: ErrorCode; message: string } {
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

/**
 * Parses `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP
 * date) into milliseconds. Returns undefined when neither is usable.
 */
export function parseRetryAfter(
  getHeader: (name: string) => string | null | undefined,
  now: () => number = Date.now,
): number | undefined {
  const milliseconds = getHeader('retry-after-ms');
  if (milliseconds) {
    const value = Number.parseFloat(milliseconds);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const retryAfter = getHeader('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number.parseFloat(retryAfter);
  if (Number.isFinite(seconds) && /^\s*\d+(\.\d+)?\s*$/.test(retryAfter))
    return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(retryAfter);
  if (Number.isFinite(date)) return Math.max(0, date - now());
  return undefined;
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
