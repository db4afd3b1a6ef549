import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../src/analyses/store/memory-store.js';
import { json, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { type FakeUpstream, startFakeOpenAI } from '../support/fake-openai.js';
import { readStream } from '../support/sse.js';
import { upstreamProvider } from '../support/upstream-models.js';

interface Record_ {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
  result: { text: string } | null;
}

const post = (app: TestApp, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

const openOn: TestApp[] = [];
const fakes: FakeUpstream[] = [];
afterEach(async () => {
  await Promise.all(openOn.splice(0).map((app) => app.close()));
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

describe('templates are rendered in one pass', () => {
  it('never expands {{…}} that comes from the user or from a model', async () => {
    const fake = await startFakeOpenAI({
      text: (request) =>
        `Answer by ${(request.body as { model: string }).model}: see {{prompt}} and {{responses}}`,
    });
    fakes.push(fake);
    const app = await startApp({ providers: [upstreamProvider(fake, ['one', 'two'])] });
    openOn.push(app);
    const prompt = 'Explain {{responses}} and {{stages.initial}} and {{own_response}} literally.';
    const answer = await post(app, { prompt }, { prefer: 'wait=30' });
    expect(answer.status).toBe(200);
    const record = await json<Record_>(answer);
    expect(record.status).toBe('succeeded');

    const userMessages = fake.calls.map((call) => {
      const messages = (call.body as { messages: Array<{ role: string; content: string }> }).messages;
      return messages.filter((message) => message.role === 'user').at(-1)!.content;
    });
    // initial: the prompt exactly as the user wrote it.
    expect(userMessages.slice(0, 2)).toEqual([prompt, prompt]);
    // meta: the prompt and the answers appear literally; their placeholders were not expanded.
    const meta = userMessages[2]!;
    expect(meta).toContain(prompt);
    expect(meta).toContain('Answer by one: see {{prompt}} and {{responses}}');
    expect(meta).toContain('Answer by two: see {{prompt}} and {{responses}}');
    expect(meta.split(prompt)).toHaveLength(2);
  });
});

describe('retention', () => {
  it('keeps at most MAX_RETAINED_ANALYSES finished analyses, dropping the oldest with their events', async () => {
    const app = await startApp({ env: { MAX_RETAINED_ANALYSES: '3' } });
    openOn.push(app);
    const ids: string[] = [];
    for (let index = 0; index < 8; index++) {
      const answer = await post(app, { prompt: `Question ${index}` }, { prefer: 'wait=30' });
      expect(answer.status).toBe(200);
      ids.push((await json<Record_>(answer)).id);
    }
    const store = app.app.chorus.store as MemoryStore;
    expect(store.size).toBe(3);
    for (const id of ids.slice(0, 5)) {
      expect((await fetch(`${app.url}/v1/analyses/${id}`)).status).toBe(404);
      expect((await fetch(`${app.url}/v1/analyses/${id}/events`)).status).toBe(404);
    }
    for (const id of ids.slice(5)) expect((await fetch(`${app.url}/v1/analyses/${id}`)).status).toBe(200);
    const list = await json<{ data: unknown[] }>(await fetch(`${app.url}/v1/analyses?limit=100`));
    expect(list.data).toHaveLength(3);
  });

  it('expires finished analyses by age (injected clock), and memory stays flat over many analyses', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new MemoryStore({ ttlSeconds: 60, maxRetained: 100_000, now: () => now });
    const app = await startApp({ store, env: { ANALYSIS_TTL_SECONDS: '60' } });
    openOn.push(app);
    const first = await json<Record_>(await post(app, { prompt: 'Old question' }, { prefer: 'wait=30' }));
    now += 61_000;
    store.sweep();
    expect((await fetch(`${app.url}/v1/analyses/${first.id}`)).status).toBe(404);

    // Many analyses, each expiring before the next batch: the store never grows past one batch.
    let largest = 0;
    for (let batch = 0; batch < 5; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          post(app, { prompt: `Batch ${batch} #${index}` }, { prefer: 'wait=30' }),
        ),
      );
      for (const answer of answers) expect(answer.status).toBe(200);
      largest = Math.max(largest, store.size);
      now += 61_000;
      store.sweep();
      expect(store.size).toBe(0);
    }
    expect(largest).toBe(20);
  });
});

describe('Prefer: wait', () => {
  it('stops waiting when the client goes away, and the analysis runs on', async () => {
    const app = await startApp({ providers: [simProvider([simModel('slow', { latencyMs: 60_000 })])] });
    openOn.push(app);
    const store = app.app.chorus.store;
    const subscribe = store.subscribe.bind(store);
    let unsubscribed = 0;
    vi.spyOn(store, 'subscribe').mockImplementation(async (id, listener) => {
      const unsubscribe = await subscribe(id, listener);
      return () => {
        unsubscribed++;
        unsubscribe();
      };
    });
    const client = new AbortController();
    const waiting = post(app, { prompt: 'Nobody waits for this.' }, { prefer: 'wait=60' }, client.signal);
    let id = '';
    await vi.waitFor(async () => {
      const page = await json<{ data: Record_[] }>(await fetch(`${app.url}/v1/analyses?status=running`));
      expect(page.data).toHaveLength(1);
      id = page.data[0]!.id;
    });
    expect(unsubscribed).toBe(0);
    client.abort();
    await expect(waiting).rejects.toThrow();
    await vi.waitFor(() => expect(unsubscribed).toBe(1));
    const record = await json<Record_>(await fetch(`${app.url}/v1/analyses/${id}`));
    expect(record.status).toBe('running');
  });
});

describe('graceful shutdown', () => {
  it('fails running analyses with "shutdown", ends their streams and never hangs', async () => {
    const app = await startApp({ providers: [simProvider([simModel('slow', { latencyMs: 60_000 })])] });
    const created = await json<Record_>(await post(app, { prompt: 'This will not finish.' }));
    const waiting = post(app, { prompt: 'Neither will this.' }, { prefer: 'wait=60' });
    const stream = readStream(`${app.url}/v1/analyses/${created.id}/events`);
    // Both analyses are running (the held request has been accepted) before the close.
    await vi.waitFor(async () => {
      const page = await json<{ data: Record_[] }>(await fetch(`${app.url}/v1/analyses?status=running`));
      expect(page.data).toHaveLength(2);
    });
    await app.close();
    const events = (await stream).events;
    const last = events.at(-1)!;
    expect(last.event).toBe('analysis.failed');
    expect((last.data.error as { code: string }).code).toBe('shutdown');
    // The held request's analysis ended while it waited: 200 with the final, failed record.
    const waited = await waiting;
    expect(waited.status).toBe(200);
    expect(await json<Record_>(waited)).toMatchObject({ status: 'failed', error: { code: 'shutdown' } });
    const record = app.app.chorus.store.get(created.id);
    expect((await record)?.record.status).toBe('failed');
  });
});

describe('logs', () => {
  it('name the request id and never carry the Authorization header or a stream token', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      {
        write(line: string) {
          lines.push(line);
        },
      },
    );
    const app = await startApp({ logger, env: { API_KEYS: 'secret-key-123' } });
    openOn.push(app);
    const answer = await post(
      app,
      { prompt: 'Hello' },
      { authorization: 'Bearer secret-key-123', 'x-request-id': 'req-abc-1', prefer: 'wait=30' },
    );
    const record = await json<{ id: string; links: { events: string } }>(answer);
    await fetch(`${app.url}${record.links.events}`);
    await fetch(`${app.url}/v1/analyses`, { headers: { authorization: 'Bearer wrong-key-456' } });
    const text = lines.join('');
    expect(text).toContain('"requestId":"req-abc-1"');
    expect(text).not.toContain('secret-key-123');
    expect(text).not.toContain('wrong-key-456');
    const token = new URL(record.links.events, 'http://x').searchParams.get('token')!;
    expect(text).not.toContain(token.split('.')[1]!);
  });
});
