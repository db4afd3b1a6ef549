/**
 * A body with very many problems gets an answer the size of a few: at most
 * MAX_VALIDATION_ERRORS entries in `errors`, then one entry counting the rest
 * (on POST /v1/analyses, through the zod validator, and on POST /v1/patterns,
 * through the pattern validator).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors: Array<{ path: string; message: string }>;
}

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ env: { API_KEYS: 'cap-key', MAX_PATTERN_BYTES: String(4 * 1024 * 1024) } });
});
afterAll(async () => {
  await t.close();
});

/** `{ ...base, k0: 0, k1: 0, …, k2s: 0, … }` as text (base-36 counters), `count` unknown keys. */
function withUnknownKeys(base: Record<string, unknown>, count: number): string {
  const extra = Array.from({ length: count }, (_, index) => `"k${index.toString(36)}":0`).join(',');
  return `${JSON.stringify(base).slice(0, -1)},${extra}}`;
}

async function post(path: string, body: string) {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer cap-key', 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text };
}

describe('reported validation errors are capped', () => {
  it('150,000 unknown keys in an analysis: a 400 listing 20 and counting the rest', async () => {
    const body = withUnknownKeys({ prompt: 'x' }, 150_000);
    expect(body.length).toBeGreaterThan(1_400_000);
    const answer = await post('/v1/analyses', body);
    expect(answer.status).toBe(400);
    expect(answer.type).toMatch(/^application\/problem\+json/);
    // Before: one entry per key, a 13.4 MB answer to a 1.7 MB body.
    expect(answer.text.length).toBeLessThan(4_000);
    const problem = JSON.parse(answer.text) as Problem;
    expect(problem.errors).toHaveLength(21);
    expect(problem.errors[0]).toEqual({
      path: '/k0',
      message: expect.stringContaining('unknown field "k0"'),
    });
    expect(problem.errors[20]).toEqual({
      path: '',
      message: expect.stringMatching(/^and 149980 more problems .*MAX_VALIDATION_ERRORS/),
    });
  });

  it('a body with fewer problems than the cap lists each one and no summary', async () => {
    const problem = JSON.parse(
      (await post('/v1/analyses', withUnknownKeys({ prompt: 'x' }, 3))).text,
    ) as Problem;
    expect(problem.errors.map((error) => error.path)).toEqual(['/k0', '/k1', '/k2']);
  });

  it('150,000 unknown keys in a pattern: a 400 listing 20 and counting the rest', async () => {
    const pattern = {
      name: 'capped',
      title: 'Capped',
      description: '',
      stages: [{ name: 'only', mode: 'one', template: '{{prompt}}' }],
    };
    const answer = await post('/v1/patterns', withUnknownKeys(pattern, 150_000));
    expect(answer.status).toBe(400);
    expect(answer.text.length).toBeLessThan(10_000);
    const problem = JSON.parse(answer.text) as Problem;
    expect(problem.errors).toHaveLength(21);
    expect(problem.errors[20]).toEqual({
      path: '',
      message: expect.stringMatching(/^and 149980 more problems/),
    });
  });

  it('a pattern with thousands of broken stages is checked only as far as the stage limit', async () => {
    const stages = Array.from({ length: 5_000 }, () => ({ name: 'same', mode: 'one', template: '{{nope}}' }));
    const answer = await post(
      '/v1/patterns',
      JSON.stringify({ name: 'many', title: 'Many', description: '', stages }),
    );
    expect(answer.status).toBe(400);
    const problem = JSON.parse(answer.text) as Problem;
    expect(problem.errors.length).toBeLessThanOrEqual(21);
    expect(problem.errors.some((error) => error.message.includes('at most 10 stages'))).toBe(true);
  });
});

describe('MAX_VALIDATION_ERRORS', () => {
  it('sets the cap', async () => {
    const app = await startApp({ env: { MAX_VALIDATION_ERRORS: '2' } });
    try {
      const res = await fetch(`${app.url}/v1/analyses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: withUnknownKeys({ prompt: 'x' }, 10),
      });
      const problem = (await res.json()) as Problem;
      expect(problem.errors.map((error) => error.path)).toEqual(['/k0', '/k1', '']);
      expect(problem.errors[2]!.message).toMatch(/^and 8 more problems/);
    } finally {
      await app.close();
    }
  });
});
