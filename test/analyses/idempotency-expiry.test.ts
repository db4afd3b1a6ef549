/**
 * Idempotency keys expire through an index: a sweep (which runs whenever an
 * analysis finishes) touches only the keys that expired, however many are
 * held. Counted with an injected clock, never timed. Redis expires each key by
 * its own TTL, so nothing there walks the keys at all.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/analyses/store/memory-store.js';
import { RedisIdempotencyKeys } from '../../src/analyses/store/redis-idempotency.js';
import { startApp, type TestApp } from '../support/app.js';

const TTL_SECONDS = 3_600;

describe('memory store: idempotency expiry index', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close();
  });

  it('sweeps 100 expired keys among 50,000 by looking at 101', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new MemoryStore({
      ttlSeconds: 60,
      maxRetained: 100,
      idempotencyTtlSeconds: TTL_SECONDS,
      now: () => now,
    });
    open.push(store);
    for (let index = 0; index < 100; index++) await store.reserveIdempotencyKey('owner', `old-${index}`, 'f');
    now += 60_000;
    for (let index = 0; index < 50_000; index++)
      await store.reserveIdempotencyKey('owner', `new-${index}`, 'f');
    now += TTL_SECONDS * 1000 - 30_000; // the first 100 are past their TTL, the rest are not

    const result = store.sweep();
    expect(result.idempotencyKeysRemoved).toBe(100);
    expect(result.idempotencyKeysExamined).toBe(101);
    // A sweep with nothing expired looks at one key.
    expect(store.sweep().idempotencyKeysExamined).toBe(1);
    // The survivors still answer.
    expect(await store.reserveIdempotencyKey('owner', 'new-0', 'other')).toEqual({
      state: 'pending',
      fingerprint: 'f',
    });
  });

  it('keeps expiry order when an expired key is reserved again', async () => {
    let now = 0;
    const store = new MemoryStore({
      ttlSeconds: 60,
      maxRetained: 100,
      idempotencyTtlSeconds: 10,
      now: () => now,
    });
    open.push(store);
    await store.reserveIdempotencyKey('owner', 'a', 'f1');
    now = 5_000;
    await store.reserveIdempotencyKey('owner', 'b', 'f1');
    now = 11_000; // a expired, b not
    expect(await store.reserveIdempotencyKey('owner', 'a', 'f2')).toEqual({ state: 'new' });
    now = 16_000; // b expired; the renewed a lives until 21,000
    const result = store.sweep();
    expect(result.idempotencyKeysRemoved).toBe(1);
    expect(await store.reserveIdempotencyKey('owner', 'a', 'f3')).toEqual({
      state: 'pending',
      fingerprint: 'f2',
    });
    expect(await store.reserveIdempotencyKey('owner', 'b', 'f3')).toEqual({ state: 'new' });
  });

  it('through HTTP: a finished analysis sweeps the expired keys, and an expired key is free again', async () => {
    let now = Date.now();
    const store = new MemoryStore({
      ttlSeconds: 86_400,
      maxRetained: 1_000,
      idempotencyTtlSeconds: TTL_SECONDS,
      now: () => now,
    });
    const app: TestApp = await startApp({ store });
    open.push(app);
    const post = (prompt: string, key: string) =>
      fetch(`${app.url}/v1/analyses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key, prefer: 'wait=30' },
        body: JSON.stringify({ prompt }),
      });
    expect((await post('Expiry: first', 'reused')).status).toBe(200);
    expect((await post('Expiry: other body', 'reused')).status).toBe(422);
    now += TTL_SECONDS * 1000 + 1;
    // Past its TTL the key serves a new request.
    expect((await post('Expiry: other body', 'reused')).status).toBe(200);
  });
});

describe('redis store: idempotency keys expire by their own TTL', () => {
  it('sets each key with its TTL, so Redis removes it without a sweep', async () => {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const prefix = `test-idem-${process.pid}`;
    try {
      const keys = new RedisIdempotencyKeys(redis, prefix, TTL_SECONDS);
      expect(await keys.reserve('owner', 'k', 'f')).toEqual({ state: 'new' });
      const ttl = await redis.ttl(keys.name('owner', 'k'));
      expect(ttl).toBeGreaterThan(TTL_SECONDS - 60);
      expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);
      await keys.complete('owner', 'k', 'an_1');
      // Completing keeps the TTL.
      expect(await redis.ttl(keys.name('owner', 'k'))).toBeGreaterThan(0);
      await keys.release('owner', 'k');
    } finally {
      redis.disconnect();
    }
  });
});
