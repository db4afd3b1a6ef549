import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelError } from '../../../src/models/errors.js';
import {
  backoffDelayMs,
  defaultRetryPolicy,
  isRetryable,
  type RetryInfo,
  retryWithBackoff,
  type Sleep,
} from '../../../src/models/resilience/retry.js';
import { cancelledError, ProviderError, type ProviderErrorCode } from '../../../src/providers/errors.js';
import { flushMicrotasks, track } from './deferred.js';

function upstream(
  code: ProviderErrorCode,
  extra: { retryAfterMs?: number; retryable?: boolean } = {},
): ProviderError {
  return new ProviderError({ code, message: code, ...extra });
}

/** A sleep that records the waits and returns at once. */
function recordingSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('isRetryable', () => {
  it('retries only call errors the policy table and the error both call retryable, never cancelled or circuit_open', () => {
    expect(isRetryable(upstream('overloaded'))).toBe(true);
    expect(isRetryable(upstream('rate_limited'))).toBe(true);
    expect(isRetryable(upstream('timeout'))).toBe(true);
    expect(isRetryable(upstream('overloaded', { retryable: false }))).toBe(false);
    expect(isRetryable(upstream('bad_request'))).toBe(false);
    expect(isRetryable(upstream('auth_failed'))).toBe(false);
    expect(isRetryable(new ModelError('circuit_open', 'open'))).toBe(false);
    expect(isRetryable(upstream('cancelled', { retryable: true }))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });
});

describe('backoffDelayMs (full jitter)', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };

  it('stays within [0, min(cap, base * 2^(n-1))]', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(1, policy, () => 0.999_999)).toBe(99);
    expect(backoffDelayMs(2, policy, () => 0.999_999)).toBe(199);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelayMs(10, policy, () => 0.999_999)).toBe(999);
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      for (const draw of [0, 0.1, 0.5, 0.9, 0.999_999]) {
        const delay = backoffDelayMs(attempt, policy, () => draw);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.min(1_000, 100 * 2 ** (attempt - 1)));
      }
    }
  });
});

describe('retryWithBackoff', () => {
  it('has the documented defaults', () => {
    expect(defaultRetryPolicy).toMatchObject({ maxAttempts: 3, totalTimeMs: 60_000 });
  });

  it('retries retryable errors and returns the first success, reporting each retry before the wait', async () => {
    const { sleep, waits } = recordingSleep();
    const retries: RetryInfo[] = [];
    const signal = new AbortController().signal;
    const attempt = vi.fn(async (attemptNumber: number) => {
      if (attemptNumber < 3) throw upstream('overloaded');
      return 'done';
    });
    const result = await retryWithBackoff(attempt, {
      signal,
      sleep,
      random: () => 0.5,
      baseDelayMs: 100,
      onRetry: (info) => {
        expect(waits).toHaveLength(info.attempt - 1);
        retries.push(info);
      },
    });
    expect(result).toBe('done');
    expect(attempt.mock.calls).toEqual([
      [1, signal],
      [2, signal],
      [3, signal],
    ]);
    expect(retries.map(({ attempt: number, delayMs }) => [number, delayMs])).toEqual([
      [1, 50],
      [2, 100],
    ]);
    expect(waits).toEqual([50, 100]);
  });

  it('feeds the injected random through full jitter, capped', async () => {
    const { sleep, waits } = recordingSleep();
    await expect(
      retryWithBackoff(() => Promise.reject(upstream('upstream_error')), {
        sleep,
        random: () => 0.5,
        maxAttempts: 6,
        baseDelayMs: 100,
        maxDelayMs: 500,
      }),
    ).rejects.toMatchObject({ code: 'upstream_error' });
    expect(waits).toEqual([50, 100, 200, 250, 250]);
  });

  it('waits at least retryAfterMs (fake timers, the real sleep)', async () => {
    vi.useFakeTimers();
    const attempt = vi
      .fn<(attemptNumber: number) => Promise<string>>()
      .mockRejectedValueOnce(upstream('rate_limited', { retryAfterMs: 5_000 }))
      .mockResolvedValueOnce('ok');
    const outcome = track(retryWithBackoff(attempt, { random: () => 0, now: () => 0 }));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(outcome.settled()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(attempt).toHaveBeenCalledTimes(2);
    await flushMicrotasks();
    expect(outcome.settled()).toBe('resolved');
  });

  it('takes the longer of the jittered backoff and retryAfterMs', async () => {
    const { sleep, waits } = recordingSleep();
    const attempt = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(upstream('rate_limited', { retryAfterMs: 10 }))
      .mockResolvedValueOnce('ok');
    await retryWithBackoff(attempt, { sleep, random: () => 0.999_999, baseDelayMs: 1_000 });
    expect(waits).toEqual([999]);
  });

  it('gives up with the error when retryAfterMs exceeds the remaining time budget', async () => {
    const { sleep, waits } = recordingSleep();
    const onRetry = vi.fn();
    const error = upstream('rate_limited', { retryAfterMs: 20_000 });
    const attempt = vi.fn(() => Promise.reject(error));
    await expect(
      retryWithBackoff(attempt, { sleep, onRetry, totalTimeMs: 10_000, now: () => 0 }),
    ).rejects.toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(waits).toEqual([]);
  });

  it.each([
    ['bad_request', upstream('bad_request')],
    ['retryable: false', upstream('overloaded', { retryable: false })],
    ['circuit_open', new ModelError('circuit_open', 'open')],
    ['cancelled', cancelledError()],
    ['a plain Error', new Error('bug')],
  ])('does not retry %s', async (_name, error) => {
    const { sleep } = recordingSleep();
    const attempt = vi.fn(() => Promise.reject(error));
    await expect(retryWithBackoff(attempt, { sleep })).rejects.toBe(error);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('stops after maxAttempts with the last error', async () => {
    const { sleep } = recordingSleep();
    let count = 0;
    const attempt = vi.fn(() => Promise.reject(upstream('timeout', { retryAfterMs: count++ })));
    const error = await retryWithBackoff(attempt, { sleep }).catch((caught: unknown) => caught);
    expect(attempt).toHaveBeenCalledTimes(defaultRetryPolicy.maxAttempts);
    expect(error).toMatchObject({ code: 'timeout', retryAfterMs: 2 });
  });

  it('stops when the total time budget is spent', async () => {
    let time = 0;
    const sleep: Sleep = (ms) => {
      time += ms;
      return Promise.resolve();
    };
    const attempt = vi.fn(async () => {
      time += 30_000;
      throw upstream('network_error');
    });
    await expect(
      retryWithBackoff(attempt, { sleep, now: () => time, random: () => 0.5, maxAttempts: 10 }),
    ).rejects.toMatchObject({ code: 'network_error' });
    expect(attempt).toHaveBeenCalledTimes(2);
  });

  it('a cancel during the back-off ends the wait at once with cancelled', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const attempt = vi.fn(() => Promise.reject(upstream('overloaded', { retryAfterMs: 30_000 })));
    const outcome = track(retryWithBackoff(attempt, { signal: controller.signal, now: () => 0 }));
    await flushMicrotasks();
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await flushMicrotasks();
    expect(outcome.settled()).toBe('rejected');
    expect(outcome.error()).toMatchObject({ code: 'cancelled' });
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a cancel ends even an injected sleep that ignores the signal', async () => {
    const controller = new AbortController();
    const outcome = track(
      retryWithBackoff(() => Promise.reject(upstream('overloaded')), {
        signal: controller.signal,
        sleep: () => new Promise<void>(() => undefined),
      }),
    );
    await flushMicrotasks();
    controller.abort();
    await flushMicrotasks();
    expect(outcome.error()).toMatchObject({ code: 'cancelled' });
  });

  it('reports cancelled, not the attempt’s error, when the signal aborted during the attempt', async () => {
    const controller = new AbortController();
    const attempt = vi.fn(async () => {
      controller.abort();
      throw upstream('network_error');
    });
    await expect(retryWithBackoff(attempt, { signal: controller.signal })).rejects.toMatchObject({
      code: 'cancelled',
    });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('does not start when the signal is already aborted', async () => {
    const attempt = vi.fn(() => Promise.resolve('x'));
    await expect(retryWithBackoff(attempt, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'cancelled',
    });
    expect(attempt).not.toHaveBeenCalled();
  });
});
