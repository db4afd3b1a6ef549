/**
 * The byte budget of an analysis, through HTTP on both stores: inputs past
 * MAX_METADATA_BYTES or MAX_ANALYSIS_INPUT_BYTES are refused before anything
 * is stored, and an event log past MAX_ANALYSIS_EVENT_BYTES leaves out model
 * deltas while the record and the replay stay complete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { type FakeUpstream, startFakeOpenAI } from '../support/fake-openai.js';
import { readStream } from '../support/sse.js';
import { upstreamProvider } from '../support/upstream-models.js';

interface Problem {
  status: number;
  type: string;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

const post = (app: TestApp, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer key-one', ...headers },
    body: JSON.stringify(body),
  });

describe.each(STORES)('input byte budget ($name store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { ...env, API_KEYS: 'key-one' } });
  });
  afterAll(() => app.close());

  const listed = async () =>
    (
      await json<{ data: unknown[] }>(
        await fetch(`${app.url}/v1/analyses?limit=100`, { headers: { authorization: 'Bearer key-one' } }),
      )
    ).data.length;

  it('refuses the 1.87 MB metadata string that exhausted memory: 400 naming MAX_METADATA_BYTES', async () => {
    const before = await listed();
    const answer = await post(app, {
      prompt: 'Budget: big metadata',
      metadata: { blob: 'x'.repeat(1_870_000) },
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json<Problem>(answer);
    expect(problem.type).toBe('/problems/validation-error');
    expect(problem.detail).toContain('MAX_METADATA_BYTES');
    expect(problem.detail).toContain('16384 bytes');
    expect(problem.errors).toEqual([
      { path: '/metadata', message: expect.stringContaining('MAX_METADATA_BYTES') },
    ]);
    // Nothing was stored.
    expect(await listed()).toBe(before);
  });

  it('refuses a custom pattern that repeats the prompt past the budget: 413 naming MAX_ANALYSIS_INPUT_BYTES', async () => {
    const echo = {
      name: 'echo-chamber',
      title: 'Echo chamber',
      description: 'Repeats the prompt.',
      stages: [{ name: 'answer', mode: 'one', template: '{{prompt}} '.repeat(1_500) }],
    };
    const created = await fetch(`${app.url}/v1/patterns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer key-one' },
      body: JSON.stringify(echo),
    });
    expect(created.status).toBe(201);
    const before = await listed();
    // 4 KB once is fine; 1,500 times it would be 6 MB per model call.
    const answer = await post(app, { prompt: 'p'.repeat(4_000), pattern: 'echo-chamber' });
    expect(answer.status).toBe(413);
    const problem = await json<Problem>(answer);
    expect(problem.detail).toContain('MAX_ANALYSIS_INPUT_BYTES');
    expect(problem.detail).toContain('{{prompt}}');
    expect(problem.errors?.[0]?.path).toBe('/prompt');
    expect(await listed()).toBe(before);
    expect((await post(app, { prompt: 'short', pattern: 'echo-chamber' })).status).toBe(202);
  });

  it('counts metadata as UTF-8 JSON: multi-byte strings and many small values add up', async () => {
    // 6,000 characters of "€" are 18,000 bytes: past 16 KiB though well under any length cap.
    const euros = await post(app, { prompt: 'Budget: euros', metadata: { note: '€'.repeat(6_000) } });
    expect(euros.status).toBe(400);
    const spread = Object.fromEntries(
      Array.from({ length: 16 }, (_, index) => [`k${index}`, 'y'.repeat(1_100)]),
    );
    expect((await post(app, { prompt: 'Budget: spread', metadata: spread })).status).toBe(400);
    // Just under the limit is accepted and echoed back whole.
    const fits = { note: 'z'.repeat(16_384 - 20) };
    const accepted = await post(app, { prompt: 'Budget: fits', metadata: fits }, { prefer: 'wait=30' });
    expect(accepted.status).toBe(200);
    expect((await json<{ metadata: unknown }>(accepted)).metadata).toEqual(fits);
  });

  it('refuses an input past MAX_ANALYSIS_INPUT_BYTES with 413, and reserves no idempotency key', async () => {
    // 200,000 control characters are within the prompt's length limit but 1.2 MB as JSON.
    const prompt = '\u0001'.repeat(200_000);
    const answer = await post(app, { prompt }, { 'idempotency-key': 'budget-1' });
    expect(answer.status).toBe(413);
    const problem = await json<Problem>(answer);
    expect(problem.type).toBe('/problems/payload-too-large');
    expect(problem.detail).toContain('MAX_ANALYSIS_INPUT_BYTES');
    expect(problem.detail).toContain('1048576 bytes');
    // The key is free for the corrected request.
    const retried = await post(app, { prompt: 'Budget: shorter' }, { 'idempotency-key': 'budget-1' });
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });

  it('applies the limits set in the environment', async () => {
    const small = await startApp({
      env: { ...env, MAX_ANALYSIS_INPUT_BYTES: '4096', MAX_METADATA_BYTES: '64' },
    });
    try {
      const metadata = await post(small, { prompt: 'Budget: env', metadata: { note: 'n'.repeat(64) } });
      expect(metadata.status).toBe(400);
      expect((await json<Problem>(metadata)).detail).toContain('64 bytes (MAX_METADATA_BYTES)');
      const input = await post(small, { prompt: 'p'.repeat(4_000), system: 's'.repeat(100) });
      expect(input.status).toBe(413);
      expect((await json<Problem>(input)).detail).toContain('4096 bytes (MAX_ANALYSIS_INPUT_BYTES)');
      expect((await post(small, { prompt: 'p'.repeat(4_000) })).status).toBe(202);
    } finally {
      await small.close();
    }
  });
});

describe.each(STORES)('event byte budget ($name store)', ({ env }) => {
  // Each call streams 30,000 characters in 300 deltas; seven calls make ~230 KB of deltas.
  const TEXT = `${'lorem ipsum '.repeat(2_500)}`;
  let fake: FakeUpstream;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ models: ['m1', 'm2', 'm3'], text: TEXT, chunks: 300 });
    app = await startApp({
      env: { ...env, MAX_ANALYSIS_EVENT_BYTES: '65536' },
      providers: [upstreamProvider(fake)],
    });
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('stops storing and streaming deltas past MAX_ANALYSIS_EVENT_BYTES; the record and replay stay complete', async () => {
    const answer = await post(app, { prompt: 'Budget: long answers' }, { prefer: 'wait=30' });
    expect(answer.status).toBe(200);
    const record = await json<{
      status: string;
      warnings: string[];
      result: { text: string };
      links: { events: string };
      stages: Array<{ responses: Array<{ text: string }> }>;
    }>(answer);
    expect(record.status).toBe('succeeded');
    expect(record.warnings.some((warning) => warning.includes('MAX_ANALYSIS_EVENT_BYTES'))).toBe(true);
    expect(record.result.text).toBe(TEXT);
    for (const stage of record.stages)
      for (const response of stage.responses) expect(response.text).toBe(TEXT);

    const stream = await readStream(`${app.url}${record.links.events}`);
    const events = stream.events;
    // Ids stay gap-free: a left-out delta never took one.
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    const deltaBytes = events
      .filter((event) => event.event === 'model.delta')
      .reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event.data)), 0);
    expect(deltaBytes).toBeGreaterThan(0);
    expect(deltaBytes).toBeLessThanOrEqual(65_536);
    const completed = events.filter((event) => event.event === 'model.completed');
    expect(completed).toHaveLength(7);
    for (const event of completed) expect(event.data.text).toBe(TEXT);
    expect(events.at(-1)!.event).toBe('analysis.completed');
  });
});
