/**
 * What one API key can make the service keep in custom patterns is bounded:
 * at most MAX_CUSTOM_PATTERNS_PER_KEY of them, each at most MAX_PATTERN_BYTES;
 * GET /v1/patterns answers a page at a time; and the 422 for an unknown
 * pattern names the built-ins and only the first of the caller's own.
 * On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_PATTERNS } from '../../src/orchestration/patterns/index.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import type { Problem } from '../support/problem.js';

interface Page {
  data: Array<{ name: string }>;
  nextCursor: string | null;
}

const MAX = 25;
const BUILT_INS = BUILT_IN_PATTERNS.map((pattern) => pattern.name);

const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

const definition = (name: string, template = '{{prompt}}') => ({
  name,
  title: `Pattern ${name}`,
  description: '',
  stages: [{ name: 'only', mode: 'one', template }],
});

describe.each(STORES)('custom pattern limits ($name store)', ({ env }) => {
  let t: TestApp;
  const register = (key: string, body: unknown) =>
    fetch(`${t.url}/v1/patterns`, { method: 'POST', headers: headers(key), body: JSON.stringify(body) });
  const list = async (key: string, query = '') => {
    const res = await fetch(`${t.url}/v1/patterns${query}`, { headers: headers(key) });
    return { status: res.status, body: await json<Page & Problem>(res) };
  };

  beforeAll(async () => {
    t = await startApp({
      env: {
        ...env,
        API_KEYS: 'full-key,other-key,empty-key',
        MAX_CUSTOM_PATTERNS_PER_KEY: String(MAX),
        MAX_PATTERN_BYTES: '4096',
      },
    });
    // Registered in reverse order: listings are by name whatever the order of creation.
    for (let index = MAX - 1; index >= 0; index--) {
      const res = await register('full-key', definition(`p${String(index).padStart(3, '0')}`));
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses one pattern more than MAX_CUSTOM_PATTERNS_PER_KEY with a 409 naming the variable', async () => {
    const res = await register('full-key', definition('one_too_many'));
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await json<Problem>(res);
    expect(problem.type).toBe('/problems/limit-reached');
    expect(problem.detail).toContain(String(MAX));
    expect(problem.detail).toContain('MAX_CUSTOM_PATTERNS_PER_KEY');
    expect((await fetch(`${t.url}/v1/patterns/one_too_many`, { headers: headers('full-key') })).status).toBe(
      404,
    );
    // The limit is per key: another key still has room, and a taken name is still a plain conflict.
    expect((await register('other-key', definition('one_too_many'))).status).toBe(201);
    expect((await register('full-key', definition('p000'))).status).toBe(409);
  });

  it('refuses a definition larger than MAX_PATTERN_BYTES with a 413 naming the variable', async () => {
    const res = await register('other-key', definition('too_big', `{{prompt}} ${'x'.repeat(5000)}`));
    expect(res.status).toBe(413);
    const problem = await json<Problem>(res);
    expect(problem.type).toBe('/problems/payload-too-large');
    expect(problem.detail).toContain('4096');
    expect(problem.detail).toContain('MAX_PATTERN_BYTES');
    expect((await fetch(`${t.url}/v1/patterns/too_big`, { headers: headers('other-key') })).status).toBe(404);
  });

  it("lists a page at a time: built-ins first, then the caller's own by name, every one exactly once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { status, body } = await list('full-key', query);
      expect(status).toBe(200);
      expect(body.data.length).toBeLessThanOrEqual(7);
      seen.push(...body.data.map((pattern) => pattern.name));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    const own = Array.from({ length: MAX }, (_, index) => `p${String(index).padStart(3, '0')}`);
    expect(seen).toEqual([...BUILT_INS, ...own]);
  });

  it("a page ending exactly with the last built-in goes on with the caller's own, and ends when there are none", async () => {
    const first = await list('full-key', `?limit=${BUILT_INS.length}`);
    expect(first.body.data.map((pattern) => pattern.name)).toEqual(BUILT_INS);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const next = await list('full-key', `?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.body.data.map((pattern) => pattern.name)).toEqual(['p000', 'p001']);

    const other = await list('other-key', `?limit=${BUILT_INS.length}`);
    expect(other.body.nextCursor).toEqual(expect.any(String));
    const rest = await list('other-key', `?cursor=${other.body.nextCursor}`);
    expect(rest.body).toEqual({
      data: [expect.objectContaining({ name: 'one_too_many' })],
      nextCursor: null,
    });

    const empty = await list('empty-key', `?limit=${BUILT_INS.length}`);
    expect(empty.body.nextCursor).toBeNull();
  });

  it('defaults to 20 a page and refuses a limit out of range or a cursor it did not give', async () => {
    const first = await list('full-key');
    expect(first.body.data).toHaveLength(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?cursor=bm9wZQ', '?cursor=%F0%9F%98%80']) {
      const { status, body } = await list('full-key', query);
      expect(status, query).toBe(400);
      expect(body.type).toBe('/problems/validation-error');
    }
  });

  it("the unknown-pattern 422 names the built-ins and only the first 20 of the caller's own", async () => {
    const res = await fetch(`${t.url}/v1/analyses`, {
      method: 'POST',
      headers: headers('full-key'),
      body: JSON.stringify({ prompt: 'x', pattern: 'nope' }),
    });
    expect(res.status).toBe(422);
    const message = (await json<Problem>(res)).errors![0]!.message;
    for (const name of BUILT_INS) expect(message).toContain(name);
    expect(message).toContain('p019');
    expect(message).not.toContain('p020');
    expect(message).toContain(`and ${MAX - 20} more of your own`);
  });
});
