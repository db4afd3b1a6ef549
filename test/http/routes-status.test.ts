/**
 * Every route and status code of the HTTP contract (/work/shared/contract/API.md),
 * over a real socket with Node's fetch: status, content type, the problem fields
 * of every error answer, and the headers the contract names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/analyses/store/memory-store.js';
import {
  FAST_SIM,
  type StartOptions,
  simModel,
  simProvider,
  startApp,
  type TestApp,
} from '../support/app.js';
import { BUILT_IN_NAMES } from '../support/contract-patterns.js';
import { readStream, TERMINAL } from '../support/sse.js';

// ---------------------------------------------------------------------------------------------
// helpers

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: Array<{ path: string; message: string }>;
}

interface Links {
  self: string;
  events: string;
}

interface Record_ {
  id: string;
  status: string;
  pattern: string;
  models: string[];
  synthesisModel: string;
  stages?: Array<{ name: string }>;
  result: { text: string } | null;
  links: Links;
  createdAt: string;
  [key: string]: unknown;
}

interface Answer<T> {
  res: Response;
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json` (unless a content type is given). */
  json?: unknown;
  /** A raw body. */
  body?: string;
}

async function call<T = Record<string, unknown>>(
  base: string,
  path: string,
  options: RequestOptions = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method: options.method ?? 'GET', headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { res, status: res.status, headers: res.headers, text, body: parsed as T };
}

const PROBLEM_TYPES = {
  validation: '/problems/validation-error',
  malformedJson: '/problems/malformed-json',
  unauthorized: '/problems/unauthorized',
  notFound: '/problems/not-found',
  methodNotAllowed: '/problems/method-not-allowed',
  conflict: '/problems/conflict',
  idempotencyInProgress: '/problems/idempotency-key-in-use',
  payloadTooLarge: '/problems/payload-too-large',
  unsupportedMediaType: '/problems/unsupported-media-type',
  unprocessable: '/problems/unprocessable-entity',
  idempotencyMismatch: '/problems/idempotency-key-mismatch',
  rateLimited: '/problems/rate-limited',
  unavailable: '/problems/service-unavailable',
} as const;

/** Asserts an RFC 9457 problem answer and returns its body. */
function expectProblem(answer: Answer<unknown>, status: number, type?: string): Problem {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
  const problem = answer.body as Problem;
  expect(problem).toBeTypeOf('object');
  expect(problem.status).toBe(status);
  expect(problem.type).toMatch(/^\/problems\/[a-z0-9-]+$/);
  if (type) expect(problem.type).toBe(type);
  expect(problem.title).toBeTypeOf('string');
  expect(problem.title.length).toBeGreaterThan(0);
  expect(problem.detail).toBeTypeOf('string');
  expect(problem.instance).toBe(new URL(answer.res.url).pathname);
  const requestId = answer.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  expect(problem.requestId).toBe(requestId);
  if (problem.errors !== undefined) {
    expect(Array.isArray(problem.errors)).toBe(true);
    for (const error of problem.errors) {
      expect(error.path === '' || error.path.startsWith('/')).toBe(true);
      expect(error.message).toBeTypeOf('string');
    }
  }
  return problem;
}

function errorPaths(problem: Problem): string[] {
  return (problem.errors ?? []).map((error) => error.path);
}

/** Starts an app before the tests of the enclosing describe and closes it after them. */
function useApp(options: StartOptions = {}): () => TestApp {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startApp(options);
  });
  afterAll(async () => {
    await app?.close();
  });
  return () => {
    if (!app) throw new Error('the app is not started');
    return app;
  };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

async function submit(base: string, body: unknown, headers: Record<string, string> = {}) {
  return call<Record_>(base, '/v1/analyses', { method: 'POST', json: body, headers });
}

/** Submits and waits for the analysis to end (FAST_SIM ends well within 10 s). */
async function submitAndWait(base: string, body: unknown, headers: Record<string, string> = {}) {
  const answer = await submit(base, body, { prefer: 'wait=10', ...headers });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

/** A sim provider whose single model takes a long time: analyses stay running until cancelled. */
const SLOW_SIM = simProvider([simModel('slow', { latencyMs: 5000 })]);

let uniqueCounter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++uniqueCounter}`;

// ---------------------------------------------------------------------------------------------

describe('POST /v1/analyses', () => {
  const app = useApp({ env: { QUEUE_MAX: '10000' } });

  it('answers 202 with Location, Vary: Prefer and the queued record', async () => {
    const answer = await submit(app().url, { prompt: 'What is a chorus?' });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const record = answer.body;
    expect(record.status).toBe('queued');
    expect(record.id).toMatch(/\S/);
    expect(answer.headers.get('location')).toBe(`/v1/analyses/${record.id}`);
    expect(record.links.self).toBe(`/v1/analyses/${record.id}`);
    expect(answer.headers.get('vary') ?? '').toMatch(/\bprefer\b/i);
    expect(answer.headers.get('preference-applied')).toBeNull();
    expect(answer.headers.get('x-request-id')).toBeTruthy();
    expect(record.pattern).toBe('standard');
    expect(record.models).toEqual(['sim/alpha', 'sim/beta', 'sim/gamma']);
  });

  it('answers 200 with the final record and Preference-Applied for Prefer: wait=10', async () => {
    const answer = await submit(app().url, { prompt: 'wait for me' }, { prefer: 'wait=10' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=10');
    expect(answer.headers.get('vary') ?? '').toMatch(/\bprefer\b/i);
    expect(answer.headers.get('location')).toBe(`/v1/analyses/${answer.body.id}`);
    expect(answer.body.status).toBe('succeeded');
    expect(answer.body.result?.text).toBeTypeOf('string');
  });

  it('answers 202 for Prefer: wait=0', async () => {
    const answer = await submit(app().url, { prompt: 'no waiting' }, { prefer: 'wait=0' });
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('queued');
    expect(answer.headers.get('preference-applied')).toBeNull();
    expect(answer.headers.get('vary') ?? '').toMatch(/\bprefer\b/i);
  });

  it('treats Prefer: wait=999 as 60', async () => {
    const answer = await submit(app().url, { prompt: 'long wait' }, { prefer: 'wait=999' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=60');
    expect(answer.body.status).toBe('succeeded');
  });

  it('treats any wait above 60 as 60, however many digits it has (Prefer: wait=99999999999)', async () => {
    const answer = await submit(app().url, { prompt: 'very long wait' }, { prefer: 'wait=99999999999' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=60');
  });

  it('ignores other preferences in the same header (Prefer: respond-async, wait=5)', async () => {
    const answer = await submit(app().url, { prompt: 'mixed' }, { prefer: 'respond-async, wait=5' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=5');
    expect(answer.body.status).toBe('succeeded');
  });

  describe('400 validation with JSON Pointer paths', () => {
    const cases: Array<[string, unknown, string]> = [
      ['a missing prompt', { pattern: 'standard' }, '/prompt'],
      ['options.temperature: 3', { prompt: 'x', options: { temperature: 3 } }, '/options/temperature'],
      ['an unknown field', { prompt: 'x', foo: 1 }, '/foo'],
      ['models that are not unique', { prompt: 'x', models: ['sim/alpha', 'sim/alpha'] }, '/models'],
      [
        'more than 12 models',
        { prompt: 'x', models: Array.from({ length: 13 }, (_, index) => `sim/m${index}`) },
        '/models',
      ],
      [
        'metadata with 17 keys',
        { prompt: 'x', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])) },
        '/metadata',
      ],
      ['an empty prompt', { prompt: '' }, '/prompt'],
      ['a prompt of 200,001 characters', { prompt: 'x'.repeat(200_001) }, '/prompt'],
    ];
    it.each(cases)('%s', async (_name, body, pointer) => {
      const problem = expectProblem(await submit(app().url, body), 400, PROBLEM_TYPES.validation);
      expect(errorPaths(problem)).toContain(pointer);
    });

    it('accepts 12 unique models at the limit of the schema (then 422 for unconfigured ones)', async () => {
      const models = Array.from({ length: 12 }, (_, index) => `sim/m${index}`);
      const problem = expectProblem(
        await submit(app().url, { prompt: 'x', models }),
        422,
        PROBLEM_TYPES.unprocessable,
      );
      expect(problem.errors?.[0]?.path).toBe('/models/0');
    });
  });

  it('answers 400 malformed-json for a body that is not JSON', async () => {
    const answer = await call(app().url, '/v1/analyses', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: '{"prompt": "x",',
    });
    expectProblem(answer, 400, PROBLEM_TYPES.malformedJson);
  });

  it.each(['text/plain', 'application/xml'])('answers 415 for content-type %s', async (type) => {
    const answer = await call(app().url, '/v1/analyses', {
      method: 'POST',
      headers: { 'content-type': type },
      body: type === 'text/plain' ? 'prompt=x' : '<prompt>x</prompt>',
    });
    expectProblem(answer, 415, PROBLEM_TYPES.unsupportedMediaType);
  });

  it('accepts a 200,000-character non-ASCII prompt sent as \\uXXXX escapes (≈1.2 MB) under the default 2 MiB limit', async () => {
    const body = `{"prompt":"${'\\u00e9'.repeat(200_000)}"}`;
    expect(body.length).toBeGreaterThan(1_200_000);
    expect(body.length).toBeLessThan(2_097_152);
    const answer = await call<Record_>(app().url, '/v1/analyses', {
      method: 'POST',
      headers: JSON_HEADERS,
      body,
    });
    expect(answer.status, answer.text.slice(0, 300)).toBe(202);
    expect(answer.body.status).toBe('queued');
  });

  it('answers 422 for an unknown pattern, naming the patterns that exist', async () => {
    const problem = expectProblem(
      await submit(app().url, { prompt: 'x', pattern: 'nope' }),
      422,
      PROBLEM_TYPES.unprocessable,
    );
    expect(problem.errors?.[0]?.path).toBe('/pattern');
    expect(JSON.stringify(problem)).toContain('standard');
  });

  it('answers 422 for an unknown model, naming the configured models', async () => {
    const problem = expectProblem(
      await submit(app().url, { prompt: 'x', models: ['openai/nope', 'sim/alpha'] }),
      422,
      PROBLEM_TYPES.unprocessable,
    );
    expect(problem.errors?.[0]?.path).toBe('/models/0');
    for (const model of ['sim/alpha', 'sim/beta', 'sim/gamma']) expect(problem.detail).toContain(model);
  });

  it('answers 422 for an unknown synthesisModel', async () => {
    const problem = expectProblem(
      await submit(app().url, { prompt: 'x', synthesisModel: 'sim/nope' }),
      422,
      PROBLEM_TYPES.unprocessable,
    );
    expect(problem.errors?.[0]?.path).toBe('/synthesisModel');
    expect(problem.detail).toContain('sim/alpha');
  });

  it('never answers 5xx for a deeply nested (but valid) metadata value', async () => {
    const depth = 20_000;
    const body = `{"prompt":"x","metadata":{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const answer = await call(app().url, '/v1/analyses', { method: 'POST', headers: JSON_HEADERS, body });
    expect(answer.status, answer.text).toBeLessThan(500);
    if (answer.status >= 400) expectProblem(answer, answer.status);
    else expect(answer.status).toBe(202);
  });

  describe('Idempotency-Key', () => {
    it('replays the same analysis for the same key and body', async () => {
      const key = unique('same');
      const first = await submit(app().url, { prompt: 'idempotent' }, { 'idempotency-key': key });
      expect(first.status).toBe(202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const second = await submit(app().url, { prompt: 'idempotent' }, { 'idempotency-key': key });
      expect([200, 202]).toContain(second.status);
      expect(second.body.id).toBe(first.body.id);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.headers.get('location')).toBe(`/v1/analyses/${first.body.id}`);
    });

    it('answers 422 for the same key with a different body', async () => {
      const key = unique('mismatch');
      const first = await submit(app().url, { prompt: 'one body' }, { 'idempotency-key': key });
      expect(first.status).toBe(202);
      const second = await submit(app().url, { prompt: 'another body' }, { 'idempotency-key': key });
      expectProblem(second, 422, PROBLEM_TYPES.idempotencyMismatch);
    });

    it('treats the quoted structured-field form "abc" as the bare key abc', async () => {
      const key = unique('quoted');
      const bare = await submit(app().url, { prompt: 'quoted' }, { 'idempotency-key': key });
      expect(bare.status).toBe(202);
      const quoted = await submit(app().url, { prompt: 'quoted' }, { 'idempotency-key': `"${key}"` });
      expect(quoted.body.id).toBe(bare.body.id);
      expect(quoted.headers.get('idempotent-replayed')).toBe('true');
    });

    it('answers 400 for an invalid key (300 characters)', async () => {
      const answer = await submit(app().url, { prompt: 'x' }, { 'idempotency-key': 'k'.repeat(300) });
      expectProblem(answer, 400, PROBLEM_TYPES.validation);
    });
  });
});

describe('POST /v1/analyses with a small BODY_LIMIT_BYTES', () => {
  const app = useApp({ env: { BODY_LIMIT_BYTES: '4096' } });

  it('answers 413 above the limit', async () => {
    const answer = await submit(app().url, { prompt: 'x'.repeat(5000) });
    expectProblem(answer, 413, PROBLEM_TYPES.payloadTooLarge);
  });

  it('accepts a body under the limit', async () => {
    const answer = await submit(app().url, { prompt: 'x'.repeat(1000) });
    expect(answer.status).toBe(202);
  });
});

describe('POST /v1/analyses when the queue is full', () => {
  const app = useApp({ env: { JOB_CONCURRENCY: '1', QUEUE_MAX: '1' }, providers: [SLOW_SIM] });

  it('answers 503 with Retry-After', async () => {
    const accepted: string[] = [];
    let full: Answer<Record_> | undefined;
    try {
      for (let attempt = 0; attempt < 10 && !full; attempt++) {
        const answer = await submit(app().url, { prompt: `slow ${attempt}` });
        if (answer.status === 202) accepted.push(answer.body.id);
        else full = answer;
      }
      expect(full, 'no 503 after 10 submissions').toBeDefined();
      expectProblem(full!, 503, PROBLEM_TYPES.unavailable);
      expect(full!.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(accepted.length).toBeGreaterThanOrEqual(1);
    } finally {
      for (const id of accepted) await call(app().url, `/v1/analyses/${id}/cancel`, { method: 'POST' });
    }
  });
});

/** A store whose inserts can be held, to catch a request while it creates its analysis. */
class GatedStore extends MemoryStore {
  private gate: Promise<void> | undefined;
  private onEnter: (() => void) | undefined;

  /** Holds the next inserts; resolves `entered` when one arrives. */
  hold(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entered = new Promise<void>((resolve) => {
      this.onEnter = resolve;
    });
    return {
      entered,
      release: () => {
        this.gate = undefined;
        release();
      },
    };
  }

  override async insert(...args: Parameters<MemoryStore['insert']>): Promise<void> {
    const gate = this.gate;
    if (gate) {
      this.onEnter?.();
      await gate;
    }
    return super.insert(...args);
  }
}

describe('POST /v1/analyses: a duplicate while the first is still being created', () => {
  const store = new GatedStore({ ttlSeconds: 3600, maxRetained: 1000 });
  const app = useApp({ store });

  it('answers 409 for the duplicate, then replays once the first is created', async () => {
    const key = unique('in-progress');
    const { entered, release } = store.hold();
    const first = submit(app().url, { prompt: 'held' }, { 'idempotency-key': key });
    await entered;
    try {
      const duplicate = await submit(app().url, { prompt: 'held' }, { 'idempotency-key': key });
      expectProblem(duplicate, 409);
    } finally {
      release();
    }
    const created = await first;
    expect(created.status).toBe(202);
    const replay = await submit(app().url, { prompt: 'held' }, { 'idempotency-key': key });
    expect(replay.body.id).toBe(created.body.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('GET /v1/analyses and /v1/analyses/:id', () => {
  const app = useApp({
    providers: [FAST_SIM, simProvider([simModel('slow', { latencyMs: 5000 })], 'slow')],
  });
  const created: string[] = [];

  beforeAll(async () => {
    for (let index = 0; index < 5; index++) {
      const record = await submitAndWait(app().url, { prompt: `list ${index}`, models: ['sim/alpha'] });
      created.push(record.id);
    }
  });

  it('GET /v1/analyses/:id answers 200 with the record', async () => {
    const id = created[0]!;
    const answer = await call<Record_>(app().url, `/v1/analyses/${id}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body.id).toBe(id);
    expect(answer.body.status).toBe('succeeded');
    expect(answer.body.stages?.map((stage) => stage.name)).toEqual(['initial', 'meta', 'synthesis']);
    expect(answer.body.links.self).toBe(`/v1/analyses/${id}`);
  });

  it('GET /v1/analyses/:id answers 404 for an unknown id', async () => {
    expectProblem(await call(app().url, '/v1/analyses/an_doesnotexist'), 404, PROBLEM_TYPES.notFound);
  });

  it('lists summaries only, newest first', async () => {
    const answer = await call<{ data: Record_[]; nextCursor: string | null }>(app().url, '/v1/analyses');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body.data.map((summary) => summary.id)).toEqual([...created].reverse());
    expect(answer.body.nextCursor).toBeNull();
    for (const summary of answer.body.data) {
      expect(summary).not.toHaveProperty('stages');
      expect(summary).not.toHaveProperty('result');
      for (const field of [
        'id',
        'status',
        'pattern',
        'models',
        'progress',
        'createdAt',
        'completedAt',
        'links',
      ]) {
        expect(summary).toHaveProperty(field);
      }
    }
    const times = answer.body.data.map((summary) => Date.parse(summary.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('pages through 5 analyses with limit=2, each exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await call<{ data: Record_[]; nextCursor: string | null }>(
        app().url,
        `/v1/analyses${query}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((summary) => summary.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
    expect(new Set(seen).size).toBe(5);
  });

  it('filters by status', async () => {
    const slow = await submit(app().url, { prompt: 'to be cancelled', models: ['slow/slow'] });
    expect(slow.status).toBe(202);
    const cancelled = await call<Record_>(app().url, `/v1/analyses/${slow.body.id}/cancel`, {
      method: 'POST',
    });
    expect(cancelled.status).toBe(200);

    const onlyCancelled = await call<{ data: Record_[] }>(app().url, '/v1/analyses?status=cancelled');
    expect(onlyCancelled.status).toBe(200);
    expect(onlyCancelled.body.data.map((summary) => summary.id)).toEqual([slow.body.id]);

    const succeeded = await call<{ data: Record_[] }>(app().url, '/v1/analyses?status=succeeded');
    expect(succeeded.body.data.map((summary) => summary.id)).toEqual([...created].reverse());
    expect(succeeded.body.data.every((summary) => summary.status === 'succeeded')).toBe(true);

    const failed = await call<{ data: Record_[] }>(app().url, '/v1/analyses?status=failed');
    expect(failed.body.data).toEqual([]);
  });

  it('answers 400 for a cursor it did not issue', async () => {
    const problem = expectProblem(
      await call(app().url, '/v1/analyses?cursor=not-a-cursor'),
      400,
      PROBLEM_TYPES.validation,
    );
    expect(errorPaths(problem)).toContain('/cursor');
  });

  it.each(['0', '101'])('answers 400 for limit=%s', async (limit) => {
    const problem = expectProblem(
      await call(app().url, `/v1/analyses?limit=${limit}`),
      400,
      PROBLEM_TYPES.validation,
    );
    expect(errorPaths(problem)).toContain('/limit');
  });

  it('answers 400 for an unknown status', async () => {
    expectProblem(await call(app().url, '/v1/analyses?status=done'), 400, PROBLEM_TYPES.validation);
  });
});

describe('POST /v1/analyses/:id/cancel and DELETE /v1/analyses/:id', () => {
  const app = useApp({ providers: [SLOW_SIM] });
  const started: string[] = [];

  afterAll(async () => {
    for (const id of started) await call(app().url, `/v1/analyses/${id}/cancel`, { method: 'POST' });
  });

  it('cancel answers 200 with the cancelled record, then 409 once ended', async () => {
    const created = await submit(app().url, { prompt: 'cancel me' });
    expect(created.status).toBe(202);
    started.push(created.body.id);
    const cancelled = await call<Record_>(app().url, `/v1/analyses/${created.body.id}/cancel`, {
      method: 'POST',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.headers.get('content-type')).toMatch(/^application\/json/);
    expect(cancelled.body.id).toBe(created.body.id);
    expect(cancelled.body.status).toBe('cancelled');

    const again = await call(app().url, `/v1/analyses/${created.body.id}/cancel`, { method: 'POST' });
    expectProblem(again, 409, PROBLEM_TYPES.conflict);
  });

  it('cancel answers 404 for an unknown id', async () => {
    const answer = await call(app().url, '/v1/analyses/an_unknown/cancel', { method: 'POST' });
    expectProblem(answer, 404, PROBLEM_TYPES.notFound);
  });

  it('DELETE answers 409 while running, 204 once ended, and the analysis is then gone', async () => {
    const created = await submit(app().url, { prompt: 'delete me' });
    expect(created.status).toBe(202);
    started.push(created.body.id);
    const path = `/v1/analyses/${created.body.id}`;

    expectProblem(await call(app().url, path, { method: 'DELETE' }), 409, PROBLEM_TYPES.conflict);

    const cancelled = await call(app().url, `${path}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);

    const deleted = await call(app().url, path, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(deleted.headers.get('x-request-id')).toBeTruthy();

    expectProblem(await call(app().url, path), 404, PROBLEM_TYPES.notFound);
    expectProblem(await call(app().url, `${path}/events`), 404, PROBLEM_TYPES.notFound);
  });

  it('DELETE answers 404 for an unknown id', async () => {
    expectProblem(
      await call(app().url, '/v1/analyses/an_unknown', { method: 'DELETE' }),
      404,
      PROBLEM_TYPES.notFound,
    );
  });
});

describe('GET /v1/analyses/:id/events', () => {
  const app = useApp();
  let record: Record_;

  beforeAll(async () => {
    record = await submitAndWait(app().url, { prompt: 'stream me' });
  });

  it('answers 200 text/event-stream with the whole history, ending with the terminal event', async () => {
    const stream = await readStream(`${app().url}/v1/analyses/${record.id}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('x-request-id')).toBeTruthy();
    expect(stream.retry).toBeTypeOf('number');
    expect(stream.events[0]?.event).toBe('analysis.queued');
    expect(stream.events.map((event) => event.id)).toEqual(stream.events.map((_, index) => index + 1));
    expect(stream.events.filter((event) => TERMINAL.has(event.event)).map((event) => event.event)).toEqual([
      'analysis.completed',
    ]);
    expect(stream.events.at(-1)?.event).toBe('analysis.completed');
    for (const event of stream.events) {
      expect(event.data.analysisId).toBe(record.id);
      expect(event.data.timestamp).toBeTypeOf('string');
    }
  });

  it('answers 404 for an unknown id', async () => {
    expectProblem(await call(app().url, '/v1/analyses/an_unknown/events'), 404, PROBLEM_TYPES.notFound);
  });

  it('answers 204 when Last-Event-ID is at or past the terminal event', async () => {
    const stream = await readStream(`${app().url}/v1/analyses/${record.id}/events`);
    const terminal = stream.events.at(-1)!.id;
    for (const lastEventId of [terminal, terminal + 10]) {
      const answer = await call(app().url, `/v1/analyses/${record.id}/events`, {
        headers: { 'last-event-id': String(lastEventId) },
      });
      expect(answer.status).toBe(204);
      expect(answer.text).toBe('');
      expect(answer.headers.get('x-request-id')).toBeTruthy();
    }
  });

  it('replays only the events after Last-Event-ID', async () => {
    const all = await readStream(`${app().url}/v1/analyses/${record.id}/events`);
    const resumed = await readStream(`${app().url}/v1/analyses/${record.id}/events`, {
      headers: { 'last-event-id': '3' },
    });
    expect(resumed.status).toBe(200);
    expect(resumed.events.map((event) => event.id)).toEqual(all.events.slice(3).map((event) => event.id));
  });

  it('answers 400 for Last-Event-ID: abc', async () => {
    const answer = await call(app().url, `/v1/analyses/${record.id}/events`, {
      headers: { 'last-event-id': 'abc' },
    });
    expectProblem(answer, 400, PROBLEM_TYPES.validation);
  });
});

describe('authentication (API_KEYS)', () => {
  const app = useApp({ env: { API_KEYS: 'key-one,key-two' } });
  const one = { authorization: 'Bearer key-one' };
  const two = { authorization: 'Bearer key-two' };
  let mine: Record_;

  beforeAll(async () => {
    mine = await submitAndWait(app().url, { prompt: 'owned by key-one' }, one);
  });

  it('answers 401 with WWW-Authenticate: Bearer without an Authorization header', async () => {
    const answer = await call(app().url, '/v1/analyses');
    expectProblem(answer, 401, PROBLEM_TYPES.unauthorized);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  });

  it('answers 401 with WWW-Authenticate: Bearer for a wrong key', async () => {
    const answer = await call(app().url, '/v1/analyses', { headers: { authorization: 'Bearer key-three' } });
    expectProblem(answer, 401, PROBLEM_TYPES.unauthorized);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  });

  it('answers 401 on every /v1 route without a key', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/v1/analyses'],
      ['GET', `/v1/analyses/${mine.id}`],
      ['POST', `/v1/analyses/${mine.id}/cancel`],
      ['DELETE', `/v1/analyses/${mine.id}`],
      ['GET', `/v1/analyses/${mine.id}/events`],
      ['GET', '/v1/patterns'],
      ['GET', '/v1/patterns/standard'],
      ['GET', '/v1/models'],
    ];
    for (const [method, path] of routes) {
      const answer = await call(app().url, path, method === 'POST' ? { method, json: {} } : { method });
      expectProblem(answer, 401, PROBLEM_TYPES.unauthorized);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    }
  });

  it("makes key-one's analysis 404 to key-two (GET, cancel, delete, events) and absent from its list", async () => {
    const base = `/v1/analyses/${mine.id}`;
    expectProblem(await call(app().url, base, { headers: two }), 404, PROBLEM_TYPES.notFound);
    expectProblem(
      await call(app().url, `${base}/cancel`, { method: 'POST', headers: two }),
      404,
      PROBLEM_TYPES.notFound,
    );
    expectProblem(
      await call(app().url, base, { method: 'DELETE', headers: two }),
      404,
      PROBLEM_TYPES.notFound,
    );
    expectProblem(await call(app().url, `${base}/events`, { headers: two }), 404, PROBLEM_TYPES.notFound);

    const list = await call<{ data: Record_[] }>(app().url, '/v1/analyses', { headers: two });
    expect(list.status).toBe(200);
    expect(list.body.data.map((summary) => summary.id)).not.toContain(mine.id);

    const own = await call<Record_>(app().url, base, { headers: one });
    expect(own.status).toBe(200);
    const ownList = await call<{ data: Record_[] }>(app().url, '/v1/analyses', { headers: one });
    expect(ownList.body.data.map((summary) => summary.id)).toContain(mine.id);
  });

  it('keeps idempotency keys per API key', async () => {
    const key = unique('shared');
    const a = await submit(app().url, { prompt: 'same body' }, { ...one, 'idempotency-key': key });
    const b = await submit(app().url, { prompt: 'same body' }, { ...two, 'idempotency-key': key });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
  });

  it('lets the links.events token stream the events without an Authorization header', async () => {
    expect(mine.links.events).toMatch(/[?&]token=/);
    const stream = await readStream(app().url + mine.links.events);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.events.at(-1)?.event).toBe('analysis.completed');
  });

  it("does not open analysis B's events with analysis A's token", async () => {
    const other = await submitAndWait(app().url, { prompt: 'another one' }, one);
    const token = new URL(mine.links.events, app().url).searchParams.get('token')!;
    const answer = await call(
      app().url,
      `/v1/analyses/${other.id}/events?token=${encodeURIComponent(token)}`,
    );
    expectProblem(answer, 401, PROBLEM_TYPES.unauthorized);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  });

  it('answers 401 for a tampered token', async () => {
    const token = new URL(mine.links.events, app().url).searchParams.get('token')!;
    const dot = token.indexOf('.');
    const flipped = token[dot + 1] === 'A' ? 'B' : 'A';
    const tampered = `${token.slice(0, dot + 1)}${flipped}${token.slice(dot + 2)}`;
    expect(tampered).not.toBe(token);
    const answer = await call(
      app().url,
      `/v1/analyses/${mine.id}/events?token=${encodeURIComponent(tampered)}`,
    );
    expectProblem(answer, 401, PROBLEM_TYPES.unauthorized);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  });

  it('keeps custom patterns to the API key that registered them', async () => {
    const name = `mine-${process.pid}`;
    const created = await call(app().url, '/v1/patterns', {
      method: 'POST',
      headers: one,
      json: {
        name,
        title: 'Mine',
        description: 'only for key-one',
        stages: [{ name: 'only', mode: 'each', template: '{{prompt}}' }],
      },
    });
    expect(created.status, created.text).toBe(201);
    expect((await call(app().url, `/v1/patterns/${name}`, { headers: one })).status).toBe(200);
    expectProblem(
      await call(app().url, `/v1/patterns/${name}`, { headers: two }),
      404,
      PROBLEM_TYPES.notFound,
    );
  });

  it('does not require a key for /healthz', async () => {
    const answer = await call(app().url, '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });
});

describe('rate limit (RATE_LIMIT_PER_MINUTE=3)', () => {
  const app = useApp({ env: { API_KEYS: 'key-one,key-two', RATE_LIMIT_PER_MINUTE: '3' } });

  it('answers the 4th request of a key with 429 and Retry-After; another key has its own budget', async () => {
    const one = { authorization: 'Bearer key-one' };
    for (let index = 0; index < 3; index++) {
      expect((await call(app().url, '/v1/models', { headers: one })).status).toBe(200);
    }
    const limited = await call(app().url, '/v1/models', { headers: one });
    expectProblem(limited, 429, PROBLEM_TYPES.rateLimited);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);

    const other = await call(app().url, '/v1/models', { headers: { authorization: 'Bearer key-two' } });
    expect(other.status).toBe(200);
  });
});

describe('routing: 404 and 405', () => {
  const app = useApp();

  it('answers 404 problem+json for an unknown route', async () => {
    const answer = await call(app().url, '/nope');
    expectProblem(answer, 404, PROBLEM_TYPES.notFound);
    expect(answer.headers.get('allow')).toBeNull();
  });

  it('answers 404 problem+json for an unknown route under /v1', async () => {
    expectProblem(await call(app().url, '/v1/nope'), 404, PROBLEM_TYPES.notFound);
  });

  it('answers 405 with Allow for PUT /v1/analyses', async () => {
    const answer = await call(app().url, '/v1/analyses', { method: 'PUT', json: { prompt: 'x' } });
    expectProblem(answer, 405, PROBLEM_TYPES.methodNotAllowed);
    const allow = (answer.headers.get('allow') ?? '').split(',').map((method) => method.trim());
    expect(allow).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(allow).not.toContain('PUT');
  });

  it('answers 405 with Allow for PATCH /v1/analyses/x', async () => {
    const answer = await call(app().url, '/v1/analyses/x', { method: 'PATCH', json: {} });
    expectProblem(answer, 405, PROBLEM_TYPES.methodNotAllowed);
    const allow = (answer.headers.get('allow') ?? '').split(',').map((method) => method.trim());
    expect(allow).toEqual(expect.arrayContaining(['GET', 'DELETE']));
    expect(allow).not.toContain('PATCH');
  });
});

describe('patterns', () => {
  const app = useApp();
  const pattern = (name: string, template = '{{prompt}}') => ({
    name,
    title: 'A test pattern',
    description: 'Two stages.',
    stages: [
      { name: 'first', mode: 'each', template },
      { name: 'last', mode: 'one', template: '{{responses}}' },
    ],
  });

  it('GET /v1/patterns lists the built-in patterns, standard with initial/meta/synthesis', async () => {
    const answer = await call<{ data: Array<{ name: string; stages: Array<{ name: string }> }> }>(
      app().url,
      '/v1/patterns',
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const standard = answer.body.data.find((item) => item.name === 'standard');
    expect(standard?.stages.map((stage) => stage.name)).toEqual(['initial', 'meta', 'synthesis']);
    const names = answer.body.data.map((item) => item.name);
    expect(names).toEqual(expect.arrayContaining([...BUILT_IN_NAMES]));
  });

  it('GET /v1/patterns/standard answers the pattern', async () => {
    const answer = await call<{ name: string; title: string; description: string; stages: unknown[] }>(
      app().url,
      '/v1/patterns/standard',
    );
    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe('standard');
    expect(answer.body.title).toBeTypeOf('string');
    expect(answer.body.description).toBeTypeOf('string');
    expect(answer.body.stages).toHaveLength(3);
  });

  it('GET /v1/patterns/nope answers 404', async () => {
    expectProblem(await call(app().url, '/v1/patterns/nope'), 404, PROBLEM_TYPES.notFound);
  });

  it('POST /v1/patterns answers 201 with Location, then 409 for the same name', async () => {
    const name = `custom-${process.pid}`;
    const created = await call<{ name: string }>(app().url, '/v1/patterns', {
      method: 'POST',
      json: pattern(name),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/patterns/${name}`);
    expect(created.body.name).toBe(name);
    expect((await call(app().url, `/v1/patterns/${name}`)).status).toBe(200);

    const again = await call(app().url, '/v1/patterns', { method: 'POST', json: pattern(name) });
    expectProblem(again, 409, PROBLEM_TYPES.conflict);
  });

  it('POST /v1/patterns answers 409 for a built-in name', async () => {
    const answer = await call(app().url, '/v1/patterns', { method: 'POST', json: pattern('standard') });
    expectProblem(answer, 409, PROBLEM_TYPES.conflict);
  });

  it('POST /v1/patterns answers 400 for a template naming an unknown variable', async () => {
    const answer = await call(app().url, '/v1/patterns', {
      method: 'POST',
      json: pattern(`bad-${process.pid}`, '{{nope}}'),
    });
    const problem = expectProblem(answer, 400, PROBLEM_TYPES.validation);
    expect(errorPaths(problem)).toContain('/stages/0/template');
  });
});

describe('GET /v1/models', () => {
  const app = useApp();

  it('lists the three sim models with availability, circuit, stats, capabilities and pricing', async () => {
    const answer = await call<{ data: Array<Record<string, unknown>> }>(app().url, '/v1/models');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body.data.map((model) => model.id)).toEqual(['sim/alpha', 'sim/beta', 'sim/gamma']);
    for (const model of answer.body.data) {
      expect(model).toMatchObject({
        provider: 'sim',
        model: expect.any(String),
        weight: expect.any(Number),
        tags: expect.any(Array),
        available: expect.any(Boolean),
        capabilities: {
          streaming: expect.any(Boolean),
          contextWindow: expect.toSatisfy((value: unknown) => value === null || typeof value === 'number'),
          maxOutputTokens: expect.toSatisfy((value: unknown) => value === null || typeof value === 'number'),
        },
        pricing: { inputCostPerMTok: expect.any(Number), outputCostPerMTok: expect.any(Number) },
        stats: {
          requests: expect.any(Number),
          failures: expect.any(Number),
          p50LatencyMs: expect.toSatisfy((value: unknown) => value === null || typeof value === 'number'),
        },
      });
      expect(['closed', 'open', 'halfOpen']).toContain(model.circuit);
    }
  });
});

describe('operations', () => {
  const app = useApp();

  it('GET /healthz answers 200 {status: ok}', async () => {
    const answer = await call(app().url, '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200', async () => {
    const answer = await call(app().url, '/readyz');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('GET /docs answers 200 html', async () => {
    const answer = await call(app().url, '/docs');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('GET /docs/json answers an OpenAPI 3 document with every /v1 route', async () => {
    const answer = await call<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      app().url,
      '/docs/json',
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body.openapi).toMatch(/^3\./);
    const expected: Array<[string, string[]]> = [
      ['/v1/analyses', ['get', 'post']],
      ['/v1/analyses/{id}', ['get', 'delete']],
      ['/v1/analyses/{id}/cancel', ['post']],
      ['/v1/analyses/{id}/events', ['get']],
      ['/v1/patterns', ['get', 'post']],
      ['/v1/patterns/{name}', ['get']],
      ['/v1/models', ['get']],
    ];
    for (const [path, methods] of expected) {
      expect(answer.body.paths, path).toHaveProperty([path]);
      expect(Object.keys(answer.body.paths[path] ?? {})).toEqual(expect.arrayContaining(methods));
    }
  });

  it('GET /metrics answers Prometheus text', async () => {
    const answer = await call(app().url, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(answer.text).toMatch(/^# (HELP|TYPE) /m);
  });
});

/** A store that does not answer: /readyz must say so. */
class DownStore extends MemoryStore {
  override async ping(): Promise<boolean> {
    return false;
  }
}

describe('GET /readyz when the store does not answer', () => {
  const app = useApp({ store: new DownStore({ ttlSeconds: 3600, maxRetained: 100 }) });

  it('answers 503 problem+json with Retry-After', async () => {
    const answer = await call(app().url, '/readyz');
    expectProblem(answer, 503, PROBLEM_TYPES.unavailable);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('CORS (CORS_ORIGINS=https://app.example)', () => {
  const app = useApp({ env: { CORS_ORIGINS: 'https://app.example' } });
  const preflight = (origin: string) =>
    call(app().url, '/v1/analyses', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, idempotency-key',
      },
    });

  it('allows a preflight from that origin', async () => {
    const answer = await preflight('https://app.example');
    expect(answer.status).toBeGreaterThanOrEqual(200);
    expect(answer.status).toBeLessThan(300);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(answer.headers.get('access-control-allow-methods') ?? '').toMatch(/\bPOST\b/);
    expect(answer.headers.get('x-request-id')).toBeTruthy();
  });

  it('does not allow a preflight from another origin', async () => {
    const answer = await preflight('https://evil.example');
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds the allow-origin header to simple requests from that origin only', async () => {
    const allowed = await call(app().url, '/v1/models', { headers: { origin: 'https://app.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await call(app().url, '/v1/models', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('x-request-id', () => {
  const app = useApp();
  const incoming = 'chorus-test.request:42_x';

  it('echoes a valid incoming x-request-id, on success, error and stream answers', async () => {
    const headers = { 'x-request-id': incoming };
    const ok = await call(app().url, '/healthz', { headers });
    expect(ok.headers.get('x-request-id')).toBe(incoming);

    const created = await submit(app().url, { prompt: 'rid' }, { ...headers, prefer: 'wait=10' });
    expect(created.headers.get('x-request-id')).toBe(incoming);

    const missing = await call(app().url, '/v1/analyses/an_missing', { headers });
    expect(missing.headers.get('x-request-id')).toBe(incoming);
    expect(expectProblem(missing, 404).requestId).toBe(incoming);

    const stream = await readStream(`${app().url}/v1/analyses/${created.body.id}/events`, { headers });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('x-request-id')).toBe(incoming);
  });

  it('replaces an invalid incoming x-request-id with one of its own', async () => {
    const answer = await call(app().url, '/healthz', { headers: { 'x-request-id': 'has spaces in it' } });
    const id = answer.headers.get('x-request-id');
    expect(id).toBeTruthy();
    expect(id).not.toBe('has spaces in it');
  });

  it('carries x-request-id on every answer', async () => {
    const record = await submitAndWait(app().url, { prompt: 'every answer' });
    const answers: Array<Answer<unknown>> = [
      await call(app().url, '/healthz'),
      await call(app().url, '/readyz'),
      await call(app().url, '/docs/json'),
      await call(app().url, '/v1/models'),
      await call(app().url, '/v1/patterns'),
      await call(app().url, '/v1/analyses'),
      await submit(app().url, { prompt: 'x' }),
      await call(app().url, `/v1/analyses/${record.id}`),
      await call(app().url, `/v1/analyses/${record.id}/events`, { headers: { 'last-event-id': '100000' } }),
      await call(app().url, '/v1/analyses/an_missing'),
      await call(app().url, '/nope'),
      await call(app().url, '/v1/analyses', { method: 'PUT' }),
      await call(app().url, '/v1/analyses', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      }),
      await call(app().url, '/v1/analyses', { method: 'POST', headers: JSON_HEADERS, body: '{' }),
    ];
    for (const answer of answers) {
      expect(answer.headers.get('x-request-id'), `${answer.res.url} ${answer.status}`).toBeTruthy();
    }
    const stream = await readStream(`${app().url}/v1/analyses/${record.id}/events`);
    expect(stream.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers problem+json with x-request-id for a path that is not valid percent-encoding', async () => {
    expectProblem(await call(app().url, '/v1/analyses/%FF'), 400);
  });

  it('answers problem+json with x-request-id for an id longer than the router accepts', async () => {
    const answer = await call(app().url, `/v1/analyses/${'a'.repeat(600)}`);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expectProblem(answer, answer.status);
  });
});
