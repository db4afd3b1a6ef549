import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, STORES, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { type ReceivedEvent, readStream, TERMINAL } from '../support/sse.js';

async function create(app: TestApp, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  return json<{ id: string; links: { events: string; self: string } }>(response);
}

function expectWellFormed(events: ReceivedEvent[], analysisId: string) {
  expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
  expect(events.filter((event) => TERMINAL.has(event.event))).toHaveLength(1);
  expect(TERMINAL.has(events.at(-1)!.event)).toBe(true);
  for (const event of events) {
    expect(event.data.analysisId).toBe(analysisId);
    expect(typeof event.data.timestamp).toBe('string');
  }
  const progress = events
    .filter((event) => event.event === 'progress')
    .map((event) => event.data.progress as number);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
}

describe.each(STORES)('the event stream, over a real socket ($name store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({
      env,
      heartbeatMs: 20,
      providers: [
        simProvider([
          simModel('alpha', { weight: 3, latencyMs: 40 }),
          simModel('beta', { weight: 2, latencyMs: 40 }),
          simModel('gamma', { weight: 1, latencyMs: 40 }),
          simModel('slow', { weight: 0, latencyMs: 60_000 }),
        ]),
      ],
    });
  });
  afterAll(() => app.close());

  it('streams a standard analysis in order, from id 1, with exactly one terminal event', async () => {
    const { id } = await create(app, { prompt: 'Should a small team adopt trunk-based development?' });
    const stream = await readStream(`${app.url}/v1/analyses/${id}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('x-request-id')).toBeTruthy();
    expect(stream.retry).toBe(3000);
    expectWellFormed(stream.events, id);
    const types = stream.events.map((event) => event.event);
    expect(types[0]).toBe('analysis.queued');
    expect(types[1]).toBe('analysis.started');
    expect(types.at(-1)).toBe('analysis.completed');
    const stages = stream.events
      .filter((event) => event.event === 'stage.started')
      .map((event) => event.data.stage);
    expect(stages).toEqual(['initial', 'meta', 'synthesis']);
    expect(types.filter((type) => type === 'model.completed')).toHaveLength(7);
    expect(types.filter((type) => type === 'model.delta').length).toBeGreaterThan(7);

    const final = stream.events.at(-1)!.data as { status: string; result: { text: string; model: string } };
    expect(final.status).toBe('succeeded');
    expect(final.result.model).toBe('sim/alpha');
    expect(final.result.text).toContain('Simulated answer from sim/alpha');
    // Deltas of one model and stage add up to its completed text.
    const completed = stream.events.find(
      (event) => event.event === 'model.completed' && event.data.model === 'sim/beta',
    )!;
    const deltas = stream.events
      .filter(
        (event) =>
          event.event === 'model.delta' && event.data.model === 'sim/beta' && event.data.stage === 'initial',
      )
      .map((event) => event.data.text)
      .join('');
    expect(deltas).toBe(completed.data.text);

    const record = await json<{ status: string; progress: { progress: number } }>(
      await fetch(`${app.url}/v1/analyses/${id}`),
    );
    expect(record.status).toBe('succeeded');
    expect(record.progress.progress).toBe(1);
  });

  it('gives a reconnecting client exactly the events after Last-Event-ID', async () => {
    const { id } = await create(app, { prompt: 'Compare two caching strategies.' });
    const first = await readStream(`${app.url}/v1/analyses/${id}/events`, {
      until: (event) => event.event === 'model.completed',
    });
    const lastSeen = first.events.at(-1)!.id;
    expect(TERMINAL.has(first.events.at(-1)!.event)).toBe(false);
    const second = await readStream(`${app.url}/v1/analyses/${id}/events`, {
      headers: { 'last-event-id': String(lastSeen) },
    });
    expect(second.events[0]!.id).toBe(lastSeen + 1);
    const joined = [...first.events, ...second.events];
    expectWellFormed(joined, id);

    // The whole history, read afterwards, is the same sequence.
    const replay = await readStream(`${app.url}/v1/analyses/${id}/events`);
    expect(replay.events.map((event) => [event.id, event.event])).toEqual(
      joined.map((event) => [event.id, event.event]),
    );
    // A finished analysis keeps its log packed; resuming from the middle of it
    // gives the very events the live stream gave, data and all.
    const resumedLater = await readStream(`${app.url}/v1/analyses/${id}/events`, {
      headers: { 'last-event-id': String(lastSeen) },
    });
    expect(resumedLater.events).toEqual(second.events);
    // Past the terminal event: 204, so a browser's EventSource stops.
    const past = await fetch(`${app.url}/v1/analyses/${id}/events`, {
      headers: { 'last-event-id': String(joined.at(-1)!.id) },
    });
    expect(past.status).toBe(204);
  });

  it('leaves out model.delta with ?deltas=false and keeps ids', async () => {
    const { id } = await create(app, { prompt: 'Name three risks of a rewrite.' });
    const stream = await readStream(`${app.url}/v1/analyses/${id}/events?deltas=false`);
    expect(stream.events.some((event) => event.event === 'model.delta')).toBe(false);
    expect(stream.events.filter((event) => TERMINAL.has(event.event))).toHaveLength(1);
    const ids = stream.events.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('cancels mid-run: the stream ends with analysis.cancelled and no model call starts after it', async () => {
    const { id } = await create(app, { prompt: 'A long question.', models: ['sim/alpha', 'sim/slow'] });
    let cancelled = false;
    const stream = await readStream(`${app.url}/v1/analyses/${id}/events`, {
      onEvent: (event) => {
        if (event.event === 'model.completed' && !cancelled) {
          cancelled = true;
          void fetch(`${app.url}/v1/analyses/${id}/cancel`, { method: 'POST' });
        }
      },
    });
    expectWellFormed(stream.events, id);
    expect(stream.events.at(-1)!.event).toBe('analysis.cancelled');
    const record = await json<{ status: string; stages: Array<{ name: string; status: string }> }>(
      await fetch(`${app.url}/v1/analyses/${id}`),
    );
    expect(record.status).toBe('cancelled');
    expect(record.stages.find((stage) => stage.name === 'meta')!.status).toBe('pending');
    // Nothing more is written after the terminal event, and nothing starts later.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const replay = await readStream(`${app.url}/v1/analyses/${id}/events`);
    expect(replay.events.length).toBe(stream.events.length);
    expect(replay.events.filter((event) => event.event === 'stage.started')).toHaveLength(1);
    const conflict = await fetch(`${app.url}/v1/analyses/${id}/cancel`, { method: 'POST' });
    expect(conflict.status).toBe(409);
  });
});

describe.each(STORES)('heartbeats ($name store)', ({ env }) => {
  it('writes a ": ping" comment while an analysis is quiet', async () => {
    const app = await startApp({
      env,
      heartbeatMs: 10,
      providers: [simProvider([simModel('slow', { latencyMs: 60_000 })])],
    });
    try {
      const { id } = await create(app, { prompt: 'Quiet, please.' });
      let pings = 0;
      const stream = await readStream(`${app.url}/v1/analyses/${id}/events`, {
        onComment: (comment) => {
          if (comment.trim() === 'ping') pings++;
          if (pings === 2) void fetch(`${app.url}/v1/analyses/${id}/cancel`, { method: 'POST' });
        },
      });
      expect(pings).toBeGreaterThanOrEqual(2);
      expect(stream.events.at(-1)!.event).toBe('analysis.cancelled');
    } finally {
      await app.close();
    }
  });
});
