import Bottleneck from 'bottleneck';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RedisConnections } from '../../src/analyses/store/redis-connections.js';
import { ProviderLimiter } from '../../src/models/resilience/limiter.js';
import { deleteKeys } from '../support/app.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Two workers' limiters for one provider with `rpm: 4`, each on its own Redis
 * connections as in two processes: together they get 4 calls a minute, not 8.
 */
describe('shared requests-per-minute budget on Redis', () => {
  const prefix = `chorus-test-rpm-${process.pid}-${Date.now().toString(36)}`;
  const logger = pino({ level: 'silent' });
  const connections = [
    new RedisConnections(REDIS_URL, logger, prefix),
    new RedisConnections(REDIS_URL, logger, prefix),
  ];
  const limiters = connections.map(
    (redis) => new ProviderLimiter({ concurrency: 10, rpm: 4, shared: redis.reservoir('fake') }),
  );

  afterAll(async () => {
    await Promise.all(limiters.map((limiter) => limiter.stop()));
    await Promise.all(connections.map((redis) => redis.close()));
    await deleteKeys(REDIS_URL, `b_${prefix}:rpm:*`);
  });

  it('lets two workers together start no more calls than one rpm allows', async () => {
    const [first, second] = limiters as [ProviderLimiter, ProviderLimiter];
    const started: string[] = [];
    const call = (limiter: ProviderLimiter, name: string, signal?: AbortSignal) =>
      limiter.schedule(async () => {
        started.push(name);
      }, signal);
    await Promise.all([call(first, 'a1'), call(second, 'b1'), call(first, 'a2'), call(second, 'b2')]);
    expect(started.sort()).toEqual(['a1', 'a2', 'b1', 'b2']);

    // The budget they drew from is one, in Redis: a third process sees it spent.
    const observer = new Bottleneck({ ...connections[0]!.reservoir('fake'), datastore: 'ioredis' });
    try {
      expect(await observer.currentReservoir()).toBe(0);
    } finally {
      await observer.disconnect(false);
    }

    // A fifth call on either worker waits for the refresh; a caller may leave meanwhile.
    const controller = new AbortController();
    const waiting = [call(first, 'a3', controller.signal), call(second, 'b3', controller.signal)];
    await vi.waitFor(() => expect(first.queued + second.queued).toBe(2));
    controller.abort();
    for (const outcome of await Promise.allSettled(waiting)) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'cancelled' } });
    }
    expect(started).toHaveLength(4);
  });
});
