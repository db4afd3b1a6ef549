import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelError } from '../../../src/models/errors.js';
import { type BreakerState, ModelBreaker } from '../../../src/models/resilience/breaker.js';
import { cancelledError, ProviderError, type ProviderErrorCode } from '../../../src/providers/errors.js';
import { deferred, flushMicrotasks, track } from './deferred.js';

const RESET_MS = 1_000;

function upstream(code: ProviderErrorCode): ProviderError {
  return new ProviderError({ code, message: `upstream said ${code}` });
}

async function fail(breaker: ModelBreaker, code: ProviderErrorCode = 'upstream_error'): Promise<unknown> {
  return breaker.execute(() => Promise.reject(upstream(code))).catch((error: unknown) => error);
}

async function succeed(breaker: ModelBreaker): Promise<string> {
  return breaker.execute(() => Promise.resolve('ok'));
}

/** Opens the breaker with five upstream failures (volumeThreshold 5). */
async function openIt(breaker: ModelBreaker): Promise<void> {
  for (let index = 0; index < 5; index += 1) await fail(breaker);
  expect(breaker.state()).toBe('open');
}

async function halfOpenIt(breaker: ModelBreaker): Promise<void> {
  await openIt(breaker);
  await vi.advanceTimersByTimeAsync(RESET_MS);
  expect(breaker.state()).toBe('halfOpen');
}

describe('ModelBreaker', () => {
  let breaker: ModelBreaker;
  let states: BreakerState[];

  beforeEach(() => {
    vi.useFakeTimers();
    breaker = new ModelBreaker({
      modelId: 'sim/echo',
      provider: 'sim',
      volumeThreshold: 5,
      resetTimeoutMs: RESET_MS,
    });
    states = [];
    breaker.onStateChange((state) => states.push(state));
  });

  afterEach(() => {
    breaker.shutdown();
    vi.useRealTimers();
  });

  it('stays closed below the volume threshold and opens once it is reached with a high failure rate', async () => {
    for (let index = 0; index < 4; index += 1) await fail(breaker);
    expect(breaker.state()).toBe('closed');
    expect(breaker.isOpen()).toBe(false);
    await fail(breaker, 'rate_limited');
    expect(breaker.state()).toBe('open');
    expect(breaker.isOpen()).toBe(true);
    expect(states).toEqual(['open']);
    expect(breaker.stats()).toMatchObject({ state: 'open', requests: 5, failures: 5 });
  });

  it('stays closed when the failure rate is at or under the threshold', async () => {
    for (let index = 0; index < 3; index += 1) await succeed(breaker);
    for (let index = 0; index < 3; index += 1) await fail(breaker, 'timeout');
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toMatchObject({ requests: 6, failures: 3, successes: 3 });
  });

  it('hands the caller the upstream error itself', async () => {
    const error = await fail(breaker, 'overloaded');
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe('overloaded');
  });

  it('fails fast with circuit_open, without calling the function, when open', async () => {
    await openIt(breaker);
    const fn = vi.fn(() => Promise.resolve('never'));
    const error = await breaker.execute(fn).catch((caught: unknown) => caught);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'circuit_open', retryable: false, provider: 'sim' });
    expect(breaker.stats().rejections).toBe(1);
  });

  it('half-opens after resetTimeout, lets one trial through and closes on its success', async () => {
    await halfOpenIt(breaker);
    expect(breaker.isOpen()).toBe(false);
    const trial = deferred<string>();
    const first = breaker.execute(() => trial.promise);
    // The single trial is under way: others fail fast meanwhile.
    expect(breaker.isOpen()).toBe(true);
    const other = vi.fn(() => Promise.resolve('no'));
    await expect(breaker.execute(other)).rejects.toMatchObject({ code: 'circuit_open' });
    expect(other).not.toHaveBeenCalled();
    trial.resolve('healthy');
    await expect(first).resolves.toBe('healthy');
    expect(breaker.state()).toBe('closed');
    expect(states).toEqual(['open', 'halfOpen', 'closed']);
    await expect(succeed(breaker)).resolves.toBe('ok');
  });

  it('opens again when the half-open trial fails', async () => {
    await halfOpenIt(breaker);
    await fail(breaker, 'network_error');
    expect(breaker.state()).toBe('open');
    expect(states).toEqual(['open', 'halfOpen', 'open']);
  });

  it('does not count bad_request, context_length_exceeded or auth_failed', async () => {
    for (const code of ['bad_request', 'context_length_exceeded', 'auth_failed'] as const) {
      for (let index = 0; index < 4; index += 1) {
        await expect(breaker.execute(() => Promise.reject(upstream(code)))).rejects.toMatchObject({ code });
      }
    }
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats().failures).toBe(0);
  });

  it('does not count errors that are not ProviderErrors', async () => {
    for (let index = 0; index < 6; index += 1) {
      await expect(breaker.execute(() => Promise.reject(new TypeError('bug')))).rejects.toThrow('bug');
    }
    expect(breaker.state()).toBe('closed');
  });

  it('keeps cancellations out altogether: no failure, no success, no volume', async () => {
    for (let index = 0; index < 10; index += 1) {
      const controller = new AbortController();
      const pending = breaker.execute(() => new Promise<string>(() => undefined), controller.signal);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    }
    for (let index = 0; index < 10; index += 1) {
      await expect(breaker.execute(() => Promise.reject(cancelledError()))).rejects.toMatchObject({
        code: 'cancelled',
      });
    }
    expect(breaker.stats()).toMatchObject({ requests: 0, failures: 0, successes: 0 });
    // Four failures and twenty cancellations: the fifth failure opens it (5 of 5, not 5 of 25).
    for (let index = 0; index < 4; index += 1) await fail(breaker);
    expect(breaker.state()).toBe('closed');
    await fail(breaker);
    expect(breaker.state()).toBe('open');
  });

  it('rejects at once with cancelled when the signal is already aborted, without calling the function', async () => {
    const fn = vi.fn(() => Promise.resolve('no'));
    await expect(breaker.execute(fn, AbortSignal.abort())).rejects.toMatchObject({ code: 'cancelled' });
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.stats().requests).toBe(0);
  });

  it('a cancelled half-open trial neither closes nor re-opens the breaker', async () => {
    await halfOpenIt(breaker);
    const controller = new AbortController();
    const trial = breaker.execute(() => new Promise<string>(() => undefined), controller.signal);
    controller.abort();
    await expect(trial).rejects.toMatchObject({ code: 'cancelled' });
    await flushMicrotasks();
    expect(breaker.state()).toBe('halfOpen');
    expect(states).toEqual(['open', 'halfOpen']);
  });

  it('a trial that ends in a cancelled error does not close the breaker either', async () => {
    await halfOpenIt(breaker);
    await expect(breaker.execute(() => Promise.reject(cancelledError()))).rejects.toMatchObject({
      code: 'cancelled',
    });
    await flushMicrotasks();
    expect(breaker.state()).toBe('halfOpen');
  });

  it('after a cancelled trial the next call becomes the trial (the breaker is not stuck)', async () => {
    await halfOpenIt(breaker);
    const controller = new AbortController();
    const cancelled = breaker.execute(() => new Promise<string>(() => undefined), controller.signal);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
    expect(breaker.isOpen()).toBe(false);

    const trial = deferred<string>();
    const next = breaker.execute(() => trial.promise);
    expect(breaker.isOpen()).toBe(true);
    await expect(breaker.execute(() => Promise.resolve('no'))).rejects.toMatchObject({
      code: 'circuit_open',
    });
    trial.reject(upstream('overloaded'));
    await expect(next).rejects.toMatchObject({ code: 'overloaded' });
    expect(breaker.state()).toBe('open');

    await vi.advanceTimersByTimeAsync(RESET_MS);
    await expect(succeed(breaker)).resolves.toBe('ok');
    expect(breaker.state()).toBe('closed');
    expect(states).toEqual(['open', 'halfOpen', 'open', 'halfOpen', 'closed']);
  });

  it('a call that started while closed and is cancelled during half-open does not close it', async () => {
    const controller = new AbortController();
    const slow = deferred<string>();
    const early = track(breaker.execute(() => slow.promise, controller.signal));
    await openIt(breaker);
    await vi.advanceTimersByTimeAsync(RESET_MS);
    expect(breaker.state()).toBe('halfOpen');
    controller.abort();
    slow.resolve('late');
    await flushMicrotasks();
    expect(early.settled()).toBe('rejected');
    expect(breaker.state()).toBe('halfOpen');
  });

  it('an excused error (bad_request) in half-open closes it: the upstream answered', async () => {
    await halfOpenIt(breaker);
    await expect(breaker.execute(() => Promise.reject(upstream('bad_request')))).rejects.toMatchObject({
      code: 'bad_request',
    });
    expect(breaker.state()).toBe('closed');
  });

  it('the state is current when the caller sees the outcome', async () => {
    for (let index = 0; index < 4; index += 1) await fail(breaker);
    await breaker.execute(() => Promise.reject(upstream('timeout'))).catch(() => undefined);
    expect(breaker.isOpen()).toBe(true);
  });

  it('fails with shutdown after shutdown()', async () => {
    const other = new ModelBreaker({ modelId: 'sim/other' });
    other.shutdown();
    await expect(other.execute(() => Promise.resolve('x'))).rejects.toMatchObject({ code: 'shutdown' });
  });
});
