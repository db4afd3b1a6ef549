/**
 * One policy table drives both the retry loop and the circuit breaker: for
 * every code a model call can end with, the real retry loop retries exactly
 * when the table says `retryable`, and the real breaker opens exactly when
 * the table says `countsForBreaker`.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/analyses/record.js';
import {
  CALL_ERROR_CODES,
  CALL_ERROR_POLICY,
  type CallError,
  type CallErrorCode,
  ModelError,
  type ModelErrorCode,
  toCallError,
} from '../../src/models/errors.js';
import { ModelBreaker } from '../../src/models/resilience/breaker.js';
import { retryWithBackoff } from '../../src/models/resilience/retry.js';
import { ENGINE_ERROR_CODES } from '../../src/orchestration/events.js';
import { PROVIDER_ERROR_CODES, ProviderError, type ProviderErrorCode } from '../../src/providers/errors.js';

function errorFor(code: CallErrorCode): CallError {
  return (PROVIDER_ERROR_CODES as readonly string[]).includes(code)
    ? new ProviderError({ code: code as ProviderErrorCode, message: code })
    : new ModelError(code as ModelErrorCode, code);
}

describe('the call error policy table', () => {
  it('has a row for every code, and the contract lists every code once', () => {
    expect(Object.keys(CALL_ERROR_POLICY).sort()).toEqual([...CALL_ERROR_CODES].sort());
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ENGINE_ERROR_CODES) expect(ERROR_CODES).toContain(code);
    expect(ERROR_CODES).toContain('worker_lost');
  });

  it.each([...CALL_ERROR_CODES])('%s: the retry loop and the breaker both follow the table', async (code) => {
    const policy = CALL_ERROR_POLICY[code];
    const error = errorFor(code);
    expect(error.retryable).toBe(policy.retryable);

    let attempts = 0;
    const failing = () => {
      attempts += 1;
      return Promise.reject(error);
    };
    await expect(retryWithBackoff(failing, { maxAttempts: 2, sleep: async () => undefined })).rejects.toBe(
      error,
    );
    expect(attempts).toBe(policy.retryable ? 2 : 1);

    const breaker = new ModelBreaker({ modelId: 'sim/a', volumeThreshold: 3, errorThresholdPercentage: 50 });
    try {
      for (let index = 0; index < 3; index += 1) await breaker.execute(failing).catch(() => undefined);
      // A cancellation is never shown to the breaker at all; every other code is counted or excused.
      expect(breaker.state()).toBe(policy.countsForBreaker ? 'open' : 'closed');
    } finally {
      breaker.shutdown();
    }
  });

  it('an error can only narrow the table: an exhausted quota is not retried', () => {
    const quota = new ProviderError({ code: 'rate_limited', message: 'quota', retryable: false });
    expect(quota.retryable).toBe(false);
    expect(new ProviderError({ code: 'bad_request', message: 'x', retryable: true }).retryable).toBe(false);
  });

  it('normalises once: a call error passes through, anything else is internal, an abort wins', () => {
    const upstream = errorFor('overloaded');
    expect(toCallError(upstream)).toBe(upstream);
    expect(toCallError(new RangeError('bug'))).toMatchObject({ code: 'internal', retryable: false });
    const controller = new AbortController();
    controller.abort(new DOMException('slow', 'TimeoutError'));
    expect(toCallError(upstream, controller.signal)).toMatchObject({ code: 'timeout', retryable: true });
    const cancelled = new AbortController();
    cancelled.abort();
    expect(toCallError(upstream, cancelled.signal)).toMatchObject({ code: 'cancelled', retryable: false });
  });
});
