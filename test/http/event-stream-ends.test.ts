/**
 * Streams of running analyses always end: a `Last-Event-ID` past the log is a
 * `400` (it names no event of the stream) rather than a stream that filters
 * out everything it will ever get, and an analysis that vanishes while it is
 * streamed (deleted, or lost by a Redis that came back empty) ends its streams
 * with an `error` event instead of pings forever.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deleteKeys, json, STORES, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { readStream, TERMINAL } from '../support/sse.js';

describe.each(STORES)('streams of running analyses end ($name store)', ({ name, env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({
      env,
      heartbeatMs: 20,
      providers: [simProvider([simModel('slow', { latencyMs: 60_000 })])],
    });
  });
  afterAll(() => app.close());

  async function running(): Promise<{ id: string; url: string }> {
    const response = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Take your time.' }),
    });
    expect(response.status).toBe(202);
    const { id } = await json<{ id: string }>(response);
    const url = `${app.url}/v1/analyses/${id}/events`;
    // Running: its first model call has started (and will not end by itself during the test).
    await readStream(url, { until: (event) => event.event === 'model.started' });
    return { id, url };
  }

  it('answers a Last-Event-ID past the log with a 400 naming it, and one at the log’s end with the rest', async () => {
    const { id, url } = await running();
    const ahead = await fetch(url, { headers: { 'last-event-id': '999' } });
    expect(ahead.status).toBe(400);
    expect(ahead.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await json<{ detail: string; errors: Array<{ path: string }> }>(ahead);
    expect(problem.detail).toContain('Last-Event-ID 999');
    expect(problem.errors[0]!.path).toBe('/headers/last-event-id');

    const seen = (await readStream(url, { until: (event) => event.event === 'model.started' })).events;
    const lastSeen = seen.at(-1)!.id;
    const resumed = readStream(url, {
      headers: { 'last-event-id': String(lastSeen) },
      onComment: () => void fetch(`${app.url}/v1/analyses/${id}/cancel`, { method: 'POST' }),
    });
    const { events } = await resumed;
    expect(events[0]!.id).toBe(lastSeen + 1);
    expect(events.at(-1)!.event).toBe('analysis.cancelled');
    // Ended: at or past the terminal event is 204, however far past.
    const past = await fetch(url, { headers: { 'last-event-id': '999' } });
    expect(past.status).toBe(204);
  });

  it('ends the live stream of an analysis the store lost with an error event', async () => {
    const { id, url } = await running();
    let vanished = false;
    const stream = await readStream(url, {
      onComment: () => {
        if (vanished) return;
        vanished = true;
        // The analysis disappears under its stream: Redis flushed (this test's keys), or the memory store lost it.
        if (name === 'redis') void deleteKeys(app.config.REDIS_URL, `${app.config.REDIS_PREFIX}:*`);
        else void app.app.chorus.store.delete(id);
      },
    });
    const last = stream.events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data).toMatchObject({ analysisId: id, status: 404, type: '/problems/not-found' });
    expect(stream.events.some((event) => TERMINAL.has(event.event))).toBe(false);
    expect((await fetch(url)).status).toBe(404);
  });
});

describe('the cap on event streams per instance', () => {
  it('answers a stream past MAX_EVENT_STREAMS with a 429 naming it, and takes one again once a stream ends', async () => {
    const app = await startApp({
      env: { MAX_EVENT_STREAMS: '1' },
      providers: [simProvider([simModel('slow', { latencyMs: 60_000 })])],
    });
    try {
      const ids: string[] = [];
      for (const prompt of ['First.', 'Second.']) {
        const response = await fetch(`${app.url}/v1/analyses`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt }),
        });
        ids.push((await json<{ id: string }>(response)).id);
      }
      const controller = new AbortController();
      let opened: () => void = () => {};
      const open = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const first = readStream(`${app.url}/v1/analyses/${ids[0]}/events`, {
        signal: controller.signal,
        onEvent: () => opened(),
      });
      await open;
      const refused = await fetch(`${app.url}/v1/analyses/${ids[1]}/events`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect((await json<{ detail: string }>(refused)).detail).toContain('MAX_EVENT_STREAMS=1');
      controller.abort();
      await first;
      await vi.waitFor(async () => {
        const again = await readStream(`${app.url}/v1/analyses/${ids[1]}/events`, { until: () => true });
        expect(again.status).toBe(200);
      });
    } finally {
      await app.close();
    }
  });
});
