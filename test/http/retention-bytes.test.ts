/**
 * Retention bounded by bytes as well as count (MAX_RETAINED_BYTES), through
 * HTTP on both stores: analyses with metadata near its limit fill the budget,
 * the oldest are evicted, and the bytes the store holds stay under the bound.
 * Bytes are what the store counts, checked against what it actually holds.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RedisStore } from '../../src/analyses/store/redis-store.js';
import { jsonBytes } from '../../src/util/json-bytes.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';

const BOUND = 1_048_576;
const SUBMITTED = 80;

describe.each(STORES)('retention by bytes ($name store)', ({ name, env }) => {
  let app: TestApp;
  const ids: string[] = [];
  beforeAll(async () => {
    app = await startApp({
      env: { ...env, MAX_RETAINED_BYTES: String(BOUND), MAX_ANALYSIS_EVENT_BYTES: '65536' },
    });
  });
  afterAll(() => app.close());

  const store = () => app.app.chorus.store;
  const post = (body: unknown) =>
    fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify(body),
    });
  const status = async (id: string) => (await fetch(`${app.url}/v1/analyses/${id}`)).status;
  const retained = async () =>
    (await json<{ data: Array<{ id: string }> }>(await fetch(`${app.url}/v1/analyses?limit=100`))).data.map(
      (item) => item.id,
    );

  it('evicts the oldest finished analyses once their bytes pass MAX_RETAINED_BYTES', async () => {
    for (let batch = 0; batch < SUBMITTED / 8; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          // Random hex: metadata that compresses no better than real data, just under 16 KiB.
          post({
            prompt: `Retention ${batch}/${index}`,
            metadata: { blob: randomBytes(8_000).toString('hex') },
          }),
        ),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        ids.push((await json<{ id: string }>(answer)).id);
      }
      // The bound holds after every batch, once retention has run.
      await vi.waitFor(async () => expect(await store().bytesHeld()).toBeLessThanOrEqual(BOUND));
    }
    const kept = await retained();
    // Far fewer than MAX_RETAINED_ANALYSES (10,000): bytes decided.
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(SUBMITTED / 2);
    // The newest are kept, the oldest went first (within a concurrent batch, finishing order decides).
    const newest = new Set(ids.slice(-(kept.length + 8)));
    for (const id of kept) expect(newest.has(id)).toBe(true);
    for (const id of ids.slice(0, 8)) expect(await status(id)).toBe(404);
    expect(await status(ids.at(-1)!)).toBe(200);
    expect(await store().bytesHeld()).toBeGreaterThan(BOUND / 2);
  });

  it('counts what it holds: every kept analysis is in the total', async () => {
    const kept = await retained();
    const held = await store().bytesHeld();
    let lowerBound = 0;
    for (const id of kept) {
      const stored = (await store().get(id))!;
      lowerBound += jsonBytes(stored.record) + jsonBytes(stored.job);
    }
    // The records and inputs alone (the metadata inside them) fit in the count.
    expect(held).toBeGreaterThanOrEqual(lowerBound);
    if (name === 'redis') {
      // Exactly: record, job and every event frame of each analysis kept.
      const redis = (store() as unknown as { redis: Redis }).redis;
      const prefix = app.config.REDIS_PREFIX;
      let exact = 0;
      for (const id of kept) {
        exact += await redis.hstrlen(`${prefix}:{${id}}:a`, 'record');
        exact += await redis.hstrlen(`${prefix}:{${id}}:a`, 'job');
        for (const [, fields] of await redis.xrange(`${prefix}:{${id}}:e`, '-', '+'))
          exact += Buffer.byteLength(fields[1]!);
      }
      expect(held).toBe(exact);
    }
  });

  it('gives back the bytes of a deleted analysis', async () => {
    const [newest] = await retained();
    const before = await store().bytesHeld();
    const removed = await fetch(`${app.url}/v1/analyses/${newest}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    const after = await store().bytesHeld();
    expect(after).toBeLessThan(before);
    // At least its record left the count.
    expect(before - after).toBeGreaterThan(16_000);
  });

  it.runIf(name === 'redis')(
    'forgets analyses Redis expired by TTL, their bytes included (injected clock)',
    async () => {
      const redisStore = store() as unknown as RedisStore;
      const ttlMs = app.config.ANALYSIS_TTL_SECONDS * 1000;
      const now = Date.now();
      const clock = vi.spyOn(Date, 'now').mockReturnValue(now + ttlMs + 1_000);
      try {
        expect(await redisStore.evict()).toBeGreaterThan(0);
      } finally {
        clock.mockRestore();
      }
      expect(await redisStore.bytesHeld()).toBe(0);
    },
  );
});
