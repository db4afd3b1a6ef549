import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProviderLimiter, RPM_REFRESH_INTERVAL_MS } from '../../../src/models/resilience/limiter.js';
import { Semaphore } from '../../../src/models/resilience/semaphore.js';
import { type Deferred, deferred, flushMicrotasks, track } from './deferred.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Schedules a task the test finishes by hand; records when it starts. */
function task(limiter: ProviderLimiter, started: string[], name: string, signal?: AbortSignal) {
  const done: Deferred<string> = deferred<string>();
  const promise = limiter.schedule(() => {
    started.push(name);
    return done.promise;
  }, signal);
  return { done, outcome: track(promise), promise };
}

/** Bottleneck's stop() yields through timers: run them while it stops. */
async function stopWithFakeTimers(limiter: ProviderLimiter): Promise<void> {
  const stopping = limiter.stop();
  await vi.advanceTimersByTimeAsync(1_000);
  await stopping;
}

describe('Semaphore', () => {
  it('hands a released slot straight to the oldest waiter', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((index) => semaphore.acquire().then(() => order.push(index)));
    expect(semaphore.waiting).toBe(3);
    for (let index = 0; index < 3; index += 1) {
      semaphore.release();
      await flushMicrotasks();
    }
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(semaphore.inUse).toBe(1);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });

  it('does not let a newcomer jump the queue with tryAcquire', async () => {
    const semaphore = new Semaphore(1);
    expect(semaphore.tryAcquire()).toBe(true);
    void semaphore.acquire();
    expect(semaphore.tryAcquire()).toBe(false);
  });
});

describe('ProviderLimiter (concurrency)', () => {
  it('takes a free slot without any timer (works under fake timers with none advanced)', async () => {
    vi.useFakeTimers();
    const limiter = new ProviderLimiter({ concurrency: 2 });
    expect(limiter.rateLimited).toBe(false);
    const outcome = track(limiter.schedule(() => Promise.resolve('now')));
    await flushMicrotasks();
    expect(outcome.settled()).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never runs more than `concurrency` at once and starts waiters in FIFO order', async () => {
    const limiter = new ProviderLimiter({ concurrency: 2 });
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((name) => task(limiter, started, name));
    await flushMicrotasks();
    expect(started).toEqual(['a', 'b']);
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(3);
    tasks[1]?.done.resolve('b');
    await flushMicrotasks();
    expect(started).toEqual(['a', 'b', 'c']);
    tasks[0]?.done.resolve('a');
    await flushMicrotasks();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(limiter.running).toBe(2);
    for (const item of tasks) item.done.resolve('x');
    await Promise.all(tasks.map((item) => item.promise));
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(limiter.stats()).toMatchObject({ queued: 0, running: 0 });
  });

  it('an aborted waiter leaves the queue with cancelled and never runs', async () => {
    const limiter = new ProviderLimiter({ concurrency: 1 });
    const started: string[] = [];
    const first = task(limiter, started, 'first');
    const controller = new AbortController();
    const leaving = task(limiter, started, 'leaving', controller.signal);
    const third = task(limiter, started, 'third');
    await flushMicrotasks();
    expect(limiter.queued).toBe(2);
    controller.abort();
    await flushMicrotasks();
    expect(leaving.outcome.settled()).toBe('rejected');
    expect(leaving.outcome.error()).toMatchObject({ code: 'cancelled' });
    expect(limiter.queued).toBe(1);
    first.done.resolve('1');
    await flushMicrotasks();
    expect(started).toEqual(['first', 'third']);
    third.done.resolve('3');
    await third.promise;
  });

  it('releases the slot when the call fails, and passes the error on', async () => {
    const limiter = new ProviderLimiter({ concurrency: 1 });
    const error = new Error('upstream');
    await expect(limiter.schedule(() => Promise.reject(error))).rejects.toBe(error);
    await expect(limiter.schedule(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('reports the time spent queued to the call', async () => {
    let time = 100;
    const limiter = new ProviderLimiter({ concurrency: 1, now: () => time });
    const started: string[] = [];
    const first = task(limiter, started, 'first');
    const waits: number[] = [];
    const second = limiter.schedule(async ({ queuedMs }) => {
      waits.push(queuedMs);
      return 'second';
    });
    await flushMicrotasks();
    time = 350;
    first.done.resolve('first');
    await second;
    expect(waits).toEqual([250]);
  });

  it('stop() rejects waiters with shutdown and refuses new calls', async () => {
    const limiter = new ProviderLimiter({ concurrency: 1 });
    const started: string[] = [];
    const running = task(limiter, started, 'running');
    const waiting = task(limiter, started, 'waiting');
    await flushMicrotasks();
    await limiter.stop();
    await flushMicrotasks();
    expect(waiting.outcome.error()).toMatchObject({ code: 'shutdown' });
    await expect(limiter.schedule(() => Promise.resolve('x'))).rejects.toMatchObject({ code: 'shutdown' });
    running.done.resolve('done');
    await expect(running.promise).resolves.toBe('done');
  });
});

describe('ProviderLimiter (requests per minute)', () => {
  it('blocks the (rpm+1)th call until the reservoir refreshes', async () => {
    vi.useFakeTimers();
    const limiter = new ProviderLimiter({ concurrency: 10, rpm: 2 });
    expect(limiter.rateLimited).toBe(true);
    const started: string[] = [];
    const tasks = ['a', 'b', 'c'].map((name) => task(limiter, started, name));
    for (const item of tasks) item.done.resolve('ok');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual(['a', 'b']);
    expect(limiter.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(RPM_REFRESH_INTERVAL_MS);
    expect(started).toEqual(['a', 'b', 'c']);
    expect(limiter.queued).toBe(0);
    await stopWithFakeTimers(limiter);
  });

  it('a caller that leaves while waiting for a token gives it back', async () => {
    vi.useFakeTimers();
    const limiter = new ProviderLimiter({ concurrency: 10, rpm: 2 });
    const started: string[] = [];
    const first = [task(limiter, started, 'a'), task(limiter, started, 'b')];
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual(['a', 'b']);
    const controller = new AbortController();
    const leaving = task(limiter, started, 'leaving', controller.signal);
    const next = task(limiter, started, 'next');
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort();
    await flushMicrotasks();
    expect(leaving.outcome.error()).toMatchObject({ code: 'cancelled' });
    await vi.advanceTimersByTimeAsync(RPM_REFRESH_INTERVAL_MS);
    const extra = task(limiter, started, 'extra');
    await vi.advanceTimersByTimeAsync(1_000);
    // The refreshed window holds two tokens: the one the leaver took was refunded.
    expect(started).toEqual(['a', 'b', 'next', 'extra']);
    for (const item of [...first, next, extra]) item.done.resolve('ok');
    await stopWithFakeTimers(limiter);
  });

  it('holds a concurrency slot while waiting for a token (calls start no faster than rpm)', async () => {
    vi.useFakeTimers();
    const limiter = new ProviderLimiter({ concurrency: 1, rpm: 1 });
    const started: string[] = [];
    const a = task(limiter, started, 'a');
    a.done.resolve('a');
    await vi.advanceTimersByTimeAsync(1_000);
    const b = task(limiter, started, 'b');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual(['a']);
    expect(limiter.queued).toBe(1);
    b.done.resolve('b');
    await vi.advanceTimersByTimeAsync(RPM_REFRESH_INTERVAL_MS);
    expect(started).toEqual(['a', 'b']);
    await stopWithFakeTimers(limiter);
  });

  it('refuses a nonsensical rpm', () => {
    expect(() => new ProviderLimiter({ concurrency: 1, rpm: 0 })).toThrow(RangeError);
  });
});
