/**
 * The one retry loop of a model call (SDK retries are off).
 *
 * Exponential backoff with full jitter — a random wait in
 * [0, min(maxDelayMs, baseDelayMs * 2^(n-1))] after the n-th failed attempt —
 * raised to the error's `retryAfterMs` when the upstream asked for longer.
 * Bounded by a number of attempts and a total-time budget; a wait that would
 * overrun the budget is not taken and the last error is thrown instead.
 * One function, `isRetryable` (the policy table in ../errors.ts), decides what is retried.
 */
import { cancelledError } from '../../providers/errors.js';
import { isCallError, isRetryable } from '../errors.js';

export { isRetryable } from '../errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The backoff ceiling before jitter for the first retry. */
  baseDelayMs: number;
  /** No backoff ceiling exceeds this (a longer `retryAfterMs` still wins). */
  maxDelayMs: number;
  /** Time budget for all attempts and waits, from the first attempt. */
  totalTimeMs: number;
}

export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  totalTimeMs: 60_000,
});

export interface RetryInfo {
  /** The attempt that failed (1-based); attempt + 1 follows after the wait. */
  attempt: number;
  error: unknown;
  delayMs: number;
}

export type Sleep = (ms: number, signal: AbortSignal | undefined) => Promise<void>;

export interface RetryOptions extends Partial<RetryPolicy> {
  /** The job's signal: an abort stops the loop at once with `cancelled`. */
  signal?: AbortSignal | undefined;
  /** Called before each wait (emit `model.failed` with willRetry: true here). */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /** Overrides the retry decision (defaults to `isRetryable`). */
  isRetryable?: ((error: unknown) => boolean) | undefined;
  /** In [0, 1); `Math.random` by default. */
  random?: (() => number) | undefined;
  sleep?: Sleep | undefined;
  /** Milliseconds, for the total-time budget; `Date.now` by default. */
  now?: (() => number) | undefined;
}

export type Attempt<T> = (attemptNumber: number, signal: AbortSignal | undefined) => Promise<T>;

/** The full-jitter wait after the `failedAttempt`-th failure, before `retryAfterMs` is considered. */
export function backoffDelayMs(
  failedAttempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempt - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const fraction = Math.min(Math.max(random(), 0), 1);
  return Math.floor(fraction * Math.max(0, ceiling));
}

/** The wait before the next attempt: the jittered backoff, at least the upstream's `retryAfterMs`. */
export function retryDelayMs(
  failedAttempt: number,
  error: unknown,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const backoff = backoffDelayMs(failedAttempt, policy, random);
  const retryAfter = retryAfterOf(error);
  return retryAfter === undefined ? backoff : Math.max(backoff, retryAfter);
}

function retryAfterOf(error: unknown): number | undefined {
  if (!isCallError(error)) return undefined;
  const value = error.retryAfterMs;
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.ceil(value) : undefined;
}

/** Waits `ms` with a timer; an abort ends the wait at once with `cancelled`. */
export const timerSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Races any sleep against the signal, so even an injected sleep ends at once on cancel. */
function wait(sleep: Sleep, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms, undefined);
  if (signal.aborted) return Promise.reject(cancelledError());
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(cancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    sleep(ms, signal).then(
      () => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(cancelledError());
        else resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? cancelledError() : error);
      },
    );
  });
}

/**
 * Runs `attempt` until it succeeds, the error is not retryable, the attempts
 * or the time budget run out (the last error is thrown), or the signal aborts
 * (`cancelled`). `attempt` receives its 1-based number and the job's signal.
 */
export async function retryWithBackoff<T>(attempt: Attempt<T>, options: RetryOptions = {}): Promise<T> {
  const policy: RetryPolicy = {
    maxAttempts: options.maxAttempts ?? defaultRetryPolicy.maxAttempts,
    baseDelayMs: options.baseDelayMs ?? defaultRetryPolicy.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? defaultRetryPolicy.maxDelayMs,
    totalTimeMs: options.totalTimeMs ?? defaultRetryPolicy.totalTimeMs,
  };
  const signal = options.signal;
  const decide = options.isRetryable ?? isRetryable;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? timerSleep;
  const now = options.now ?? Date.now;
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  const started = now();

  for (let attemptNumber = 1; ; attemptNumber += 1) {
    if (signal?.aborted) throw cancelledError();
    try {
      return await attempt(attemptNumber, signal);
    } catch (error) {
      if (signal?.aborted) throw cancelledError();
      if (attemptNumber >= maxAttempts || !decide(error)) throw error;
      const delayMs = retryDelayMs(attemptNumber, error, policy, random);
      const remainingMs = policy.totalTimeMs - (now() - started);
      if (delayMs >= remainingMs) throw error;
      options.onRetry?.({ attempt: attemptNumber, error, delayMs });
      await wait(sleep, delayMs, signal);
    }
  }
}
