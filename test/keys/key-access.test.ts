/**
 * What a key may do, through HTTP: the models and patterns it may use (403
 * naming them), its own requests per minute, analyses owned by its name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { keyHash, keysDir } from '../support/keys-file.js';

const files = keysDir();
afterAll(() => files.remove());

const KEYS = [
  'keys:',
  '  - name: narrow',
  `    keyHash: ${keyHash('narrow-key')}`,
  '    models: ["sim/alpha", "sim/b*"]',
  '    patterns: [standard]',
  '  - name: slow',
  `    keyHash: ${keyHash('slow-key')}`,
  '    rpm: 3',
].join('\n');

function post(app: TestApp, key: string, body: unknown) {
  return fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe.each(STORES)('key limits ($name store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { ...env, KEYS_FILE: files.write(KEYS), API_KEYS: 'open-key' } });
  });
  afterAll(() => app.close());

  it('answers 403 naming a model the key may not use', async () => {
    const response = await post(app, 'narrow-key', { prompt: 'hi', models: ['sim/alpha', 'sim/gamma'] });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json(response);
    expect(problem).toMatchObject({ type: '/problems/forbidden', status: 403 });
    expect(problem.detail).toContain('may not use model sim/gamma');
    expect(problem.detail).toContain('sim/alpha, sim/b*');
  });

  it('answers 403 naming a pattern the key may not use', async () => {
    const response = await post(app, 'narrow-key', {
      prompt: 'hi',
      pattern: 'council',
      models: ['sim/alpha'],
    });
    expect(response.status).toBe(403);
    expect((await json(response)).detail).toContain('may not use pattern "council"');
  });

  it('runs what the key may use, and the analysis belongs to the key', async () => {
    const response = await post(app, 'narrow-key', {
      prompt: 'hi',
      models: ['sim/alpha', 'sim/beta'],
      synthesisModel: 'sim/alpha',
    });
    expect(response.status).toBe(202);
    const { id } = await json<{ id: string }>(response);
    const other = await fetch(`${app.url}/v1/analyses/${id}`, {
      headers: { authorization: 'Bearer open-key' },
    });
    expect(other.status).toBe(404);
  });

  it('limits a key to its own rpm, without touching other keys', async () => {
    const get = (key: string) =>
      fetch(`${app.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await get('slow-key'));
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await get('open-key')).toBe(200);
  });
});
