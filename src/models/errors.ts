/**
 * The failures of a model call: an adapter's ProviderError, or one of the
 * call chain's own (an open circuit, a shutdown, a model that is not
 * configured). One table, extending the providers' one, says for every code
 * whether the retry loop tries again and whether the breaker counts it;
 * `toCallError` is the one place anything thrown becomes a CallError.
 */
import {
  abortedError,
  type ErrorPolicy,
  isProviderError,
  PROVIDER_ERROR_CODES,
  PROVIDER_ERROR_POLICY,
  type ProviderError,
} from '../providers/errors.js';

/** The codes only the call chain reports. */
export const MODEL_ERROR_CODES = ['circuit_open', 'shutdown'] as const;
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

export const CALL_ERROR_CODES = [...PROVIDER_ERROR_CODES, ...MODEL_ERROR_CODES] as const;
export type CallErrorCode = (typeof CALL_ERROR_CODES)[number];

/** Retry and breaker, for every code a model call can end with. */
export const CALL_ERROR_POLICY: Readonly<Record<CallErrorCode, ErrorPolicy>> = Object.freeze({
  ...PROVIDER_ERROR_POLICY,
  // Failing fast is the point: a retry would only fail fast again.
  circuit_open: { retryable: false, countsForBreaker: false },
  shutdown: { retryable: false, countsForBreaker: false },
});

/** A failure of the call chain itself; never retried, never counted by a breaker. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly retryable = false;
  readonly retryAfterMs: number | undefined = undefined;
  readonly status: number | undefined = undefined;
  readonly upstreamRequestId: string | undefined = undefined;

  constructor(
    readonly code: ModelErrorCode | 'bad_request' | 'internal',
    message: string,
    readonly provider?: string | undefined,
  ) {
    super(message);
  }

  toJSON(): { code: CallErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export type CallError = ProviderError | ModelError;

export function isCallError(error: unknown): error is CallError {
  return isProviderError(error) || error instanceof ModelError;
}

/** The retry decision: the table says the code may be retried and the error does not say otherwise. */
export function isRetryable(error: unknown): boolean {
  return isCallError(error) && CALL_ERROR_POLICY[error.code].retryable && error.retryable;
}

/** The breaker's decision: the table says the code is the upstream's failure. */
export function countsForBreaker(error: unknown): boolean {
  return isCallError(error) && CALL_ERROR_POLICY[error.code].countsForBreaker;
}

/**
 * Anything a call threw, as a CallError: the caller's aborted signal wins
 * (cancelled, or timeout when the abort was a timeout); a CallError passes
 * through; anything else is our own bug (`internal`).
 */
export function toCallError(error: unknown, signal?: AbortSignal): CallError {
  if (signal?.aborted) return abortedError(signal);
  if (isCallError(error)) return error;
  return new ModelError('internal', 'The model call failed unexpectedly.');
}
