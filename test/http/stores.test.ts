import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { readStream } from '../support/sse.js';

/** The core HTTP scenarios, run against each store. */
describe.each(STORES)('core scenarios ($name store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { ...env, API_KEYS: 'key-one,key-two' } });
  });
  afterAll(() => app.close());

  const post = (key: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify(body),
    });
  const get = (key: string, path: string) =>
    fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  it('waits with Prefer, and answers the final record', async () => {
    const answer = await post('key-one', { prompt: 'Stores: wait' }, { prefer: 'wait=30' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=30');
    const record = await json<{ status: string; result: { text: string } }>(answer);
    expect(record.status).toBe('succeeded');
    expect(record.result.text).toContain('Simulated answer');
  });

  it('replays an idempotent POST and refuses the key with another body', async () => {
    const first = await json<{ id: string }>(
      await post('key-one', { prompt: 'Stores: once' }, { 'idempotency-key': 'k-1' }),
    );
    const again = await post('key-one', { prompt: 'Stores: once' }, { 'idempotency-key': 'k-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await json<{ id: string }>(again)).id).toBe(first.id);
    expect((await post('key-one', { prompt: 'Stores: other' }, { 'idempotency-key': 'k-1' })).status).toBe(
      422,
    );
    // Keys never cross API keys.
    const other = await json<{ id: string }>(
      await post('key-two', { prompt: 'Stores: once' }, { 'idempotency-key': 'k-1' }),
    );
    expect(other.id).not.toBe(first.id);
  });

  it('keeps each API key to its own analyses', async () => {
    const mine = await json<{ id: string; links: { events: string } }>(
      await post('key-one', { prompt: 'Stores: mine' }, { prefer: 'wait=30' }),
    );
    expect((await get('key-two', `/v1/analyses/${mine.id}`)).status).toBe(404);
    expect((await get('key-two', `/v1/analyses/${mine.id}/events`)).status).toBe(404);
    const list = await json<{ data: Array<{ id: string }> }>(await get('key-two', '/v1/analyses?limit=100'));
    expect(list.data.map((item) => item.id)).not.toContain(mine.id);
    // The signed token alone opens this analysis's events.
    const stream = await readStream(`${app.url}${mine.links.events}`);
    expect(stream.status).toBe(200);
    expect(stream.events.at(-1)!.event).toBe('analysis.completed');
  });

  it('pages the list newest first with a cursor, and deletes an ended analysis', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(
        (
          await json<{ id: string }>(
            await post('key-two', { prompt: `Stores: page ${index}` }, { prefer: 'wait=30' }),
          )
        ).id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Array<{ id: string }>; nextCursor: string | null } = await json(
        await get('key-two', `/v1/analyses?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
      );
      seen.push(...page.data.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    const removed = await fetch(`${app.url}/v1/analyses/${ids[0]}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer key-two' },
    });
    expect(removed.status).toBe(204);
    expect((await get('key-two', `/v1/analyses/${ids[0]}`)).status).toBe(404);
  });

  it('registers a custom pattern for one key only', async () => {
    const pattern = {
      name: 'one-shot',
      title: 'One shot',
      description: 'Each model answers once.',
      stages: [{ name: 'answer', mode: 'each', template: '{{prompt}}' }],
    };
    const created = await fetch(`${app.url}/v1/patterns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer key-one' },
      body: JSON.stringify(pattern),
    });
    expect(created.status).toBe(201);
    expect((await get('key-two', '/v1/patterns/one-shot')).status).toBe(404);
    const run = await post(
      'key-one',
      { prompt: 'Stores: custom', pattern: 'one-shot', models: ['sim/beta'] },
      { prefer: 'wait=30' },
    );
    expect((await json<{ status: string }>(run)).status).toBe('succeeded');
  });
});
