/**
 * `PUT /v1/patterns/{name}` and `DELETE /v1/patterns/{name}`: only the
 * caller's own custom patterns change (404 for anyone else's or none, 403 for
 * built-in and shared ones), a replacement is validated as a registration is,
 * a removal frees its place in MAX_CUSTOM_PATTERNS_PER_KEY, and an analysis
 * already accepted keeps the definition it was accepted with. On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import type { PatternDefinition } from '../../src/orchestration/patterns/types.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { type FakeUpstream, startFakeOpenAI } from '../support/fake-openai.js';
import type { Problem } from '../support/problem.js';
import { readStream } from '../support/sse.js';
import { lastUser, requestedModel, upstreamProvider } from '../support/upstream-models.js';

type Json = Record<string, unknown>;

const definition = (name: string, template = 'Answer: {{prompt}}', title = `Pattern ${name}`) => ({
  name,
  title,
  description: 'One model answers.',
  stages: [{ name: 'only', mode: 'one', template }],
});

const SHARED: PatternDefinition = {
  name: 'team_review',
  title: 'Team review',
  description: 'Shared from PATTERNS_DIR.',
  stages: [{ name: 'review', mode: 'each', template: 'Review: {{prompt}}' }],
};

function client(app: () => TestApp) {
  const send = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${app().url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    post: (key: string, body: unknown) => send('POST', '/v1/patterns', key, body),
    put: (key: string, name: string, body: unknown) => send('PUT', `/v1/patterns/${name}`, key, body),
    remove: (key: string, name: string) => send('DELETE', `/v1/patterns/${name}`, key),
    get: (key: string, name: string) => send('GET', `/v1/patterns/${name}`, key),
    names: async (key: string) =>
      (await json<{ data: PatternDefinition[] }>(await send('GET', '/v1/patterns?limit=100', key))).data.map(
        (p) => p.name,
      ),
    analyze: (key: string, body: Json) => send('POST', '/v1/analyses', key, body),
  };
}

async function expectProblem(response: Response, status: number, type: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = await json<Problem>(response);
  expect(problem).toMatchObject({ status, type, instance: expect.any(String), detail: expect.any(String) });
  return problem;
}

describe.each(STORES)('PUT and DELETE /v1/patterns/{name} ($name store)', ({ env }) => {
  let t: TestApp;
  const api = client(() => t);

  beforeAll(async () => {
    t = await startApp({
      patterns: [SHARED],
      env: { ...env, API_KEYS: 'k1,k2,full', MAX_CUSTOM_PATTERNS_PER_KEY: '3', MAX_PATTERN_BYTES: '2048' },
    });
  });
  afterAll(() => t.close());

  it('PUT replaces the caller’s own pattern (200): read back, listed and run as replaced', async () => {
    expect((await api.post('k1', definition('mine'))).status).toBe(201);
    const replacement = {
      ...definition('mine', 'Say it briefly: {{prompt}}', 'Mine, revised'),
      stages: [
        { name: 'draft', mode: 'each', template: 'Draft: {{prompt}}' },
        { name: 'pick', mode: 'one', template: 'Pick the best of:\n{{responses}}' },
      ],
    };
    const put = await api.put('k1', 'mine', replacement);
    expect(put.status).toBe(200);
    expect(await json(put)).toEqual(replacement);
    expect(await json(await api.get('k1', 'mine'))).toEqual(replacement);
    expect((await api.names('k1')).filter((name) => name === 'mine')).toHaveLength(1);

    const run = await api.analyze('k1', { prompt: 'Why?', pattern: 'mine' });
    const record = await json<AnalysisRecord>(run);
    expect(record.stages.map((stage) => stage.name)).toEqual(['draft', 'pick']);
  });

  it('another key’s pattern is 404 to PUT and DELETE, and stays as it was', async () => {
    expect((await api.post('k1', definition('private'))).status).toBe(201);
    const put = await expectProblem(
      await api.put('k2', 'private', definition('private', 'Hijacked {{prompt}}')),
      404,
      '/problems/not-found',
    );
    expect(put.detail).toContain('private');
    await expectProblem(await api.remove('k2', 'private'), 404, '/problems/not-found');
    expect(await json(await api.get('k1', 'private'))).toEqual(definition('private'));
    // And k2 got no pattern of that name out of it.
    await expectProblem(await api.get('k2', 'private'), 404, '/problems/not-found');
  });

  it('a pattern that does not exist is 404 to PUT and DELETE; PUT does not create it', async () => {
    await expectProblem(await api.put('k1', 'ghost', definition('ghost')), 404, '/problems/not-found');
    await expectProblem(await api.remove('k1', 'ghost'), 404, '/problems/not-found');
    await expectProblem(await api.get('k1', 'ghost'), 404, '/problems/not-found');
  });

  it('built-in and PATTERNS_DIR patterns are 403 to PUT and DELETE, for every key, and stay as they were', async () => {
    const before = await json(await api.get('k1', 'standard'));
    for (const key of ['k1', 'k2']) {
      for (const name of ['standard', 'council', SHARED.name]) {
        const put = await expectProblem(
          await api.put(key, name, definition(name)),
          403,
          '/problems/forbidden',
        );
        expect(put.detail).toContain(name);
        await expectProblem(await api.remove(key, name), 403, '/problems/forbidden');
      }
    }
    expect(await json(await api.get('k1', 'standard'))).toEqual(before);
    expect(await json(await api.get('k2', SHARED.name))).toEqual(SHARED);
  });

  it('PUT validates as POST does: 400 listing every problem, 413 past MAX_PATTERN_BYTES; nothing changes', async () => {
    expect((await api.post('k1', definition('strict'))).status).toBe(201);
    const bad = {
      ...definition('strict'),
      color: 'blue',
      stages: [{ name: 'only', mode: 'sometimes', template: '{{prompt}} {{answers}}' }],
    };
    const invalid = await expectProblem(
      await api.put('k1', 'strict', bad),
      400,
      '/problems/validation-error',
    );
    expect(invalid.errors!.map((error) => error.path)).toEqual(
      expect.arrayContaining(['/color', '/stages/0/mode', '/stages/0/template']),
    );
    const big = await expectProblem(
      await api.put('k1', 'strict', definition('strict', `{{prompt}} ${'x'.repeat(3000)}`)),
      413,
      '/problems/payload-too-large',
    );
    expect(big.detail).toContain('2048');
    expect(big.detail).toContain('MAX_PATTERN_BYTES');
    expect(await json(await api.get('k1', 'strict'))).toEqual(definition('strict'));
  });

  it('a PUT whose body names another pattern is 400 at /name, and renames nothing', async () => {
    expect((await api.post('k2', definition('keep_name'))).status).toBe(201);
    const problem = await expectProblem(
      await api.put('k2', 'keep_name', definition('new_name')),
      400,
      '/problems/validation-error',
    );
    expect(problem.errors).toEqual([{ path: '/name', message: expect.stringContaining('keep_name') }]);
    // Reported together with the definition's own problems.
    const both = await expectProblem(
      await api.put('k2', 'keep_name', { ...definition('new_name'), extra: 1 }),
      400,
      '/problems/validation-error',
    );
    expect(both.errors!.map((error) => error.path)).toEqual(expect.arrayContaining(['/name', '/extra']));
    expect(await json(await api.get('k2', 'keep_name'))).toEqual(definition('keep_name'));
    await expectProblem(await api.get('k2', 'new_name'), 404, '/problems/not-found');
  });

  it('DELETE removes the pattern (204): no longer read, listed or usable, and a second DELETE is 404', async () => {
    expect((await api.post('k2', definition('short_lived'))).status).toBe(201);
    const removed = await api.remove('k2', 'short_lived');
    expect(removed.status).toBe(204);
    expect(await removed.text()).toBe('');
    await expectProblem(await api.get('k2', 'short_lived'), 404, '/problems/not-found');
    expect(await api.names('k2')).not.toContain('short_lived');
    const refused = await expectProblem(
      await api.analyze('k2', { prompt: 'x', pattern: 'short_lived' }),
      422,
      '/problems/unprocessable-entity',
    );
    expect(refused.errors!.map((error) => error.path)).toEqual(['/pattern']);
    await expectProblem(await api.remove('k2', 'short_lived'), 404, '/problems/not-found');
    // The name is free again.
    expect((await api.post('k2', definition('short_lived'))).status).toBe(201);
  });

  it('a removal frees its place in MAX_CUSTOM_PATTERNS_PER_KEY; a replacement takes none', async () => {
    for (const name of ['f1', 'f2', 'f3'])
      expect((await api.post('full', definition(name))).status).toBe(201);
    await expectProblem(await api.post('full', definition('f4')), 409, '/problems/limit-reached');
    // A replacement at the limit is no new pattern.
    expect((await api.put('full', 'f2', definition('f2', 'Again: {{prompt}}'))).status).toBe(200);
    // Removing a pattern that does not exist frees nothing.
    await expectProblem(await api.remove('full', 'f9'), 404, '/problems/not-found');
    await expectProblem(await api.post('full', definition('f4')), 409, '/problems/limit-reached');

    expect((await api.remove('full', 'f1')).status).toBe(204);
    expect((await api.post('full', definition('f4'))).status).toBe(201);
    const again = await expectProblem(
      await api.post('full', definition('f5')),
      409,
      '/problems/limit-reached',
    );
    expect(again.detail).toContain('MAX_CUSTOM_PATTERNS_PER_KEY');
    expect((await api.names('full')).filter((name) => /^f\d$/.test(name))).toEqual(['f2', 'f3', 'f4']);

    // Emptied and filled again: the count starts over from nothing.
    for (const name of ['f2', 'f3', 'f4']) expect((await api.remove('full', name)).status).toBe(204);
    for (const name of ['g1', 'g2', 'g3'])
      expect((await api.post('full', definition(name))).status).toBe(201);
    await expectProblem(await api.post('full', definition('g4')), 409, '/problems/limit-reached');
  });
});

// ---------------------------------------------------------------------------
// An accepted analysis holds its own copy of the pattern.

describe.each(STORES)('an accepted analysis keeps the pattern as accepted ($name store)', ({ env }) => {
  let fake: FakeUpstream;
  let t: TestApp;
  const api = client(() => t);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    // One job at a time: the analyses under test wait in the queue behind one that hangs.
    t = await startApp({ providers: [upstreamProvider(fake)], env: { ...env, JOB_CONCURRENCY: '1' } });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('a PUT or DELETE after the analysis was accepted changes nothing in its run', async () => {
    fake.setHandler((request) =>
      request.path === '/v1/chat/completions' && lastUser(request).includes('BLOCK')
        ? { type: 'hang' }
        : undefined,
    );
    const original = (name: string) => ({
      name,
      title: 'Original',
      description: 'Drafts, then a verdict.',
      stages: [
        { name: 'v1_draft', mode: 'each', template: 'V1 draft: {{prompt}}' },
        { name: 'v1_verdict', mode: 'one', template: 'V1 verdict on:\n{{responses}}' },
      ],
    });
    for (const name of ['evolving', 'doomed'])
      expect((await api.post('anon', original(name))).status).toBe(201);

    const blocker = await json<AnalysisRecord>(await api.analyze('anon', { prompt: 'BLOCK the queue' }));
    const accepted: AnalysisRecord[] = [];
    for (const pattern of ['evolving', 'doomed']) {
      const answer = await api.analyze('anon', {
        prompt: `Run ${pattern}`,
        pattern,
        options: { cache: false },
      });
      expect(answer.status).toBe(202);
      accepted.push(await json<AnalysisRecord>(answer));
    }

    const changed = {
      ...original('evolving'),
      stages: [{ name: 'v2_only', mode: 'one', template: 'V2: {{prompt}}' }],
    };
    expect((await api.put('anon', 'evolving', changed)).status).toBe(200);
    expect((await api.remove('anon', 'doomed')).status).toBe(204);

    // Free the queue; each accepted analysis then runs as it was accepted.
    await fake.waitForRequests(1);
    expect((await fetch(`${t.url}/v1/analyses/${blocker.id}/cancel`, { method: 'POST' })).status).toBe(200);
    for (const record of accepted) {
      await readStream(`${t.url}${record.links.events}`);
      const ended = await json<AnalysisRecord>(await fetch(`${t.url}/v1/analyses/${record.id}`));
      expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
      expect(ended.stages.map((stage) => stage.name)).toEqual(['v1_draft', 'v1_verdict']);
    }
    const sent = fake.calls.filter((call) => !lastUser(call).includes('BLOCK'));
    const prompts = sent.map((call) => lastUser(call));
    expect(prompts.filter((prompt) => prompt.startsWith('V1 draft: Run '))).toHaveLength(6);
    expect(prompts.filter((prompt) => prompt.startsWith('V1 verdict on:'))).toHaveLength(2);
    expect(prompts.some((prompt) => prompt.startsWith('V2'))).toBe(false);
    expect(new Set(sent.map(requestedModel))).toEqual(new Set(['m1', 'm2', 'm3']));
    // Later analyses use the pattern as it is now.
    const now = await api.analyze('anon', { prompt: 'After', pattern: 'evolving' });
    expect((await json<AnalysisRecord>(now)).stages.map((stage) => stage.name)).toEqual(['v2_only']);
  });
});
