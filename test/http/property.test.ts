/**
 * Property-based tests of the HTTP surface: random and malformed bodies, query
 * strings, headers, ids, paths and methods at every route. Whatever arrives,
 * the answer is never a 5xx, and every 4xx is application/problem+json with
 * the fields of RFC 9457 plus `requestId` = the `x-request-id` header.
 */
import { maxHeaderSize } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app.js';
import { BUILT_IN_NAMES } from '../support/contract-patterns.js';

/** Runs per property (PROPERTY_RUNS overrides it for a longer exploration). */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
const KEYS = ['prop-key-one', 'prop-key-two'] as const;
const AUTH = { authorization: `Bearer ${KEYS[0]}` };
/** The request ids the service keeps (any other incoming value is replaced). */
const KEPT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SIM_MODELS = ['sim/alpha', 'sim/beta', 'sim/gamma'] as const;
const PATTERNS = BUILT_IN_NAMES;

let t: TestApp;
/** Analyses that stay for the whole file (never cancelled or deleted here). */
const stable: string[] = [];
/** Ended analyses the DELETE properties may remove. */
const disposable: string[] = [];
/** The analysis owned by the other API key. */
let foreign = '';

// ---------------------------------------------------------------------------------------------
// requests and the answer property

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string | undefined>;
  body?: string;
}

interface Answer {
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

/** Sends over the real socket; an event stream is cut off once its headers have arrived. */
async function send(request: Sent): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value !== undefined) headers[name] = value;
  }
  const controller = new AbortController();
  const res = await fetch(t.url + request.path, {
    method: request.method,
    headers,
    body: request.body,
    signal: controller.signal,
  });
  let text = '';
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    controller.abort();
    await res.body?.cancel().catch(() => {});
  } else {
    text = await res.text();
  }
  return { url: res.url, status: res.status, headers: res.headers, text };
}

interface Problem {
  type: unknown;
  title: unknown;
  status: unknown;
  detail: unknown;
  instance: unknown;
  requestId: unknown;
  errors?: unknown;
}

/** The property every answer has. */
function expectWellFormed(answer: Answer, sent: Sent): void {
  const what = `${sent.method} ${sent.path} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, what).toBeLessThan(500);
  const requestId = answer.headers.get('x-request-id');
  expect(requestId, `x-request-id missing: ${what}`).toBeTruthy();
  const incoming = sent.headers?.['x-request-id']?.trim();
  if (incoming !== undefined && KEPT_REQUEST_ID.test(incoming)) expect(requestId, what).toBe(incoming);
  if (answer.status < 400) return;

  expect(answer.headers.get('content-type'), what).toMatch(/^application\/problem\+json\b/);
  let problem: Problem;
  try {
    problem = JSON.parse(answer.text) as Problem;
  } catch {
    throw new Error(`not JSON: ${what}`);
  }
  expect(problem, what).toBeTypeOf('object');
  expect(problem.type, what).toBeTypeOf('string');
  expect(problem.type as string, what).toMatch(/^\//);
  expect(problem.title, what).toBeTypeOf('string');
  expect(problem.detail, what).toBeTypeOf('string');
  expect(problem.status, what).toBe(answer.status);
  expect(problem.instance, what).toBe(new URL(answer.url).pathname);
  expect(problem.requestId, what).toBe(requestId);
  if (problem.errors !== undefined) {
    expect(Array.isArray(problem.errors), what).toBe(true);
    for (const error of problem.errors as Array<{ path: unknown; message: unknown }>) {
      expect(error.path, what).toBeTypeOf('string');
      expect((error.path as string) === '' || (error.path as string).startsWith('/'), what).toBe(true);
      expect(error.message, what).toBeTypeOf('string');
    }
  }
}

async function check(request: Sent): Promise<Answer> {
  const answer = await send(request);
  expectWellFormed(answer, request);
  return answer;
}

// ---------------------------------------------------------------------------------------------
// arbitraries

/** Header values fetch accepts: printable ASCII. */
const printable = (maxLength: number, minLength = 0) =>
  fc.string({ unit: 'grapheme-ascii', minLength, maxLength });

/** Object keys that would be dangerous if merged naively into an object. */
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Builds a JSON object's text from entries, so keys like `__proto__` are really sent. */
function objectText(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

const NUMBER_TOKENS = [
  '1e999',
  '-1e999',
  '1e-999',
  '123456789012345678901234567890',
  '-123456789012345678901234567890',
  '9007199254740993',
  '-0',
  '0.0000000000000000000001',
  '1.7976931348623157e308',
  '5e-324',
  '1E2',
  '0',
  '-1',
];

const jsonText = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value));
const numberText = fc.oneof(
  fc.constantFrom(...NUMBER_TOKENS),
  fc.double().map((value) => (Number.isFinite(value) ? JSON.stringify(value) : '1e999')),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
);

/** No key or text that the JSON parser refuses as prototype pollution. */
const safeJson = (value: unknown) => !/__proto__|constructor|prototype/.test(JSON.stringify(value));
const safeKey = fc.string({ minLength: 1, maxLength: 20 }).filter((key) => safeJson(key));

/** Values and depth of a JSON value (iteratively, whatever its depth). */
function jsonShape(value: unknown): { nodes: number; depth: number } {
  const stack: Array<[unknown, number]> = [[value, 0]];
  let nodes = 0;
  let depth = 0;
  while (stack.length > 0) {
    const [item, level] = stack.pop()!;
    nodes++;
    depth = Math.max(depth, level);
    if (item !== null && typeof item === 'object') {
      for (const child of Object.values(item)) stack.push([child, level + 1]);
    }
  }
  return { nodes, depth };
}

/**
 * A body the contract accepts. Metadata stays modest (≤ 200 values, ≤ 4 levels): the service
 * refuses very large or deep metadata with a 400, which the deep-nesting property covers.
 */
const validBody = fc
  .record(
    {
      prompt: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
      system: fc.string({ maxLength: 200 }),
      pattern: fc.constantFrom(...PATTERNS),
      models: fc.shuffledSubarray([...SIM_MODELS], { minLength: 1 }),
      synthesisModel: fc.constantFrom(...SIM_MODELS),
      options: fc.record(
        {
          temperature: fc.double({ min: 0, max: 2, noNaN: true }),
          maxTokens: fc.integer({ min: 1, max: 32_000 }),
          timeoutMs: fc.integer({ min: 100, max: 600_000 }),
          cache: fc.boolean(),
          minResponses: fc.integer({ min: 1, max: 12 }),
          maxCostUsd: fc.double({ min: 1e-9, max: 1_000_000, noNaN: true }),
        },
        { requiredKeys: [] },
      ),
      metadata: fc.dictionary(safeKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 16 }),
    },
    { requiredKeys: ['prompt'] },
  )
  .filter(safeJson)
  .filter((body) => {
    const shape = jsonShape(body.metadata ?? {});
    return shape.nodes <= 200 && shape.depth <= 4;
  });

/** The fields of a valid body as `[key, json text]` entries, to mix with random ones. */
const validEntries = validBody.map((body) =>
  Object.entries(body).map(([key, value]) => [key, JSON.stringify(value)] as const),
);

const randomEntry = fc.tuple(
  fc.oneof(
    fc.constantFrom(...PROTO_KEYS),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('prompt', 'options'),
  ),
  fc.oneof(
    jsonText,
    numberText,
    fc.constant('{"polluted":true}'),
    fc.constant('{"prototype":{"polluted":true}}'),
  ),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset="utf-8"',
  'APPLICATION/JSON',
  'application/json;;',
  'application/json, text/plain',
  'application/problem+json',
  'application/vnd.api+json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/xml',
  'text/json',
  '*/*',
  ';',
  '',
];
const contentType = fc.oneof(fc.constantFrom(...CONTENT_TYPES), printable(40));

const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constant(AUTH.authorization) },
  { weight: 1, arbitrary: fc.constant(`Bearer ${KEYS[1]}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'Bearer',
      'Bearer ',
      `bearer ${KEYS[0]}`,
      `Bearer ${KEYS[0]} extra`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${KEYS[0]}x`,
    ),
  },
  { weight: 2, arbitrary: printable(60) },
);

const randomHeaders = fc.record(
  {
    'idempotency-key': fc.oneof(
      printable(40),
      fc.constantFrom('"quoted"', '""', '"a\\"b"', '"unterminated', 'a b', 'ok-key'),
      printable(300, 250),
    ),
    prefer: fc.oneof(
      printable(30),
      fc.constantFrom(
        'wait=0',
        'wait=1',
        'respond-async, wait=1',
        'wait=abc',
        'wait=-1',
        'wait=1.5',
        'wait="1"',
        'return=minimal; wait=1',
        'handling=lenient',
        'wait',
        'wait=',
      ),
    ),
    'last-event-id': fc.oneof(
      printable(20),
      fc.nat().map(String),
      fc.constantFrom('-1', '1e3', '0x10', '999999999999999999999', ' 3 ', '1.5'),
    ),
    'x-request-id': fc.oneof(
      printable(40),
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
      printable(140, 129),
    ),
    'content-type': contentType,
    accept: fc.oneof(printable(30), fc.constantFrom('text/event-stream', 'application/json', '*/*')),
  },
  { requiredKeys: [] },
);

/** Ids as they appear in a path: valid percent-encoding only, at most the router's 500 characters. */
const pathId = fc.oneof(
  fc.constantFrom(
    '%00',
    '..%2F',
    '%2F',
    '..',
    '.',
    '%2e%2e',
    '%2E',
    'a%00b',
    '%20',
    '+',
    'an_',
    '%C3%A9',
    '%F0%9F%98%80',
    '%E2%80%AE',
    '%EF%BB%BF',
    '~',
    "'",
    '%22%3E%3Cscript%3E',
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.integer({ min: 90, max: 160 }).map((length) => 'x'.repeat(length)),
  fc.integer({ min: 400, max: 500 }).map((length) => encodeURIComponent('é'.repeat(length / 6))),
  fc.constant(undefined).map(() => stable[0] ?? 'an_missing'),
  fc.constant(undefined).map(() => foreign || 'an_missing'),
);

/** Every route with an id, and what a request to it looks like. */
const ID_ROUTES: ReadonlyArray<{ method: string; path: (id: string) => string }> = [
  { method: 'GET', path: (id) => `/v1/analyses/${id}` },
  { method: 'DELETE', path: (id) => `/v1/analyses/${id}` },
  { method: 'POST', path: (id) => `/v1/analyses/${id}/cancel` },
  { method: 'GET', path: (id) => `/v1/analyses/${id}/events` },
  { method: 'GET', path: (id) => `/v1/patterns/${id}` },
];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  // Wrong keys are part of what is explored here: the per-address lockout is tested on its own.
  t = await startApp({
    env: { API_KEYS: KEYS.join(','), QUEUE_MAX: '100000', AUTH_FAILURES_PER_MINUTE: '1000000' },
  });
  const create = async (key: string, prompt: string) => {
    const res = await fetch(`${t.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, prefer: 'wait=10' },
      body: JSON.stringify({ prompt }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { id: string }).id;
  };
  for (let index = 0; index < 3; index++) stable.push(await create(KEYS[0], `stable ${index}`));
  for (let index = 0; index < 4; index++) disposable.push(await create(KEYS[0], `disposable ${index}`));
  foreign = await create(KEYS[1], 'foreign');
});

afterAll(async () => {
  if (!t) return;
  // Cancel whatever the properties left running, then close.
  for (const key of KEYS) {
    for (const status of ['queued', 'running']) {
      const res = await fetch(`${t.url}/v1/analyses?status=${status}&limit=100`, {
        headers: { authorization: `Bearer ${key}` },
      });
      if (res.status !== 200) continue;
      const page = (await res.json()) as { data: Array<{ id: string }> };
      for (const { id } of page.data) {
        await fetch(`${t.url}/v1/analyses/${id}/cancel`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}` },
        });
      }
    }
  }
  await t.close();
});

describe('POST /v1/analyses with random bodies', () => {
  it('arbitrary JSON values never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const request: Sent = {
          method: 'POST',
          path: '/v1/analyses',
          headers: { ...AUTH, 'content-type': 'application/json' },
          body: JSON.stringify(value) ?? 'null',
        };
        const answer = await check(request);
        expect([202, 400, 422]).toContain(answer.status);
      }),
      { numRuns: RUNS },
    );
  });

  it('objects mixing valid fields with random and prototype-polluting keys never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        validEntries,
        fc.array(randomEntry, { maxLength: 5 }),
        fc.boolean(),
        async (valid, random, randomFirst) => {
          const entries = randomFirst ? [...random, ...valid] : [...valid, ...random];
          const request: Sent = {
            method: 'POST',
            path: '/v1/analyses',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body: objectText(entries),
          };
          const answer = await check(request);
          if (answer.status < 300) {
            // Nothing the random keys carried may have leaked onto objects.
            expect(({} as Record<string, unknown>).polluted).toBeUndefined();
            expect(answer.status).toBe(202);
          }
        },
      ),
      {
        numRuns: RUNS,
        examples: [
          [[['prompt', '"x"']], [['__proto__', '{"polluted":true}']], false],
          [[['prompt', '"x"']], [['constructor', '{"prototype":{"polluted":true}}']], true],
          [[['prompt', '"x"']], [['metadata', '{"__proto__":{"polluted":true}}']], false],
        ],
      },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('random raw bodies with random content types never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), printable(200), jsonText),
        fc.option(contentType, { nil: undefined }),
        async (body, type) => {
          await check({
            method: 'POST',
            path: '/v1/analyses',
            headers: { ...AUTH, 'content-type': type },
            body,
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('huge, tiny and out-of-range numbers in every numeric field never give a 5xx', async () => {
    const field = fc.constantFrom(
      'temperature',
      'maxTokens',
      'timeoutMs',
      'minResponses',
      'maxCostUsd',
      'cache',
    );
    await fc.assert(
      fc.asyncProperty(
        field,
        numberText,
        fc.constantFrom('options', 'metadata', 'top'),
        async (name, number, where) => {
          const body =
            where === 'options'
              ? `{"prompt":"numbers","options":{"${name}":${number}}}`
              : where === 'metadata'
                ? `{"prompt":"numbers","metadata":{"${name}":${number}}}`
                : `{"prompt":${number}}`;
          const answer = await check({
            method: 'POST',
            path: '/v1/analyses',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body,
          });
          expect([202, 400]).toContain(answer.status);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('deep nesting (top level, in options, in metadata) never gives a 5xx', async () => {
    const nested = (depth: number, kind: 'array' | 'object') =>
      kind === 'array'
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 100, max: 50_000 })),
        fc.constantFrom('array' as const, 'object' as const),
        fc.constantFrom('top', 'options', 'metadata', 'prompt'),
        async (depth, kind, where) => {
          const value = nested(depth, kind);
          const body =
            where === 'top'
              ? value
              : where === 'options'
                ? `{"prompt":"deep","options":{"cache":${value}}}`
                : where === 'metadata'
                  ? `{"prompt":"deep","metadata":{"deep":${value}}}`
                  : `{"prompt":${value}}`;
          const answer = await check({
            method: 'POST',
            path: '/v1/analyses',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body,
          });
          expect([202, 400, 413]).toContain(answer.status);
        },
      ),
      { numRuns: 60, examples: [[20_000, 'array', 'metadata']] },
    );
  });
});

describe('POST /v1/analyses with valid bodies', () => {
  it('random valid bodies are accepted with 202', async () => {
    await fc.assert(
      fc.asyncProperty(validBody, async (body) => {
        const answer = await check({
          method: 'POST',
          path: '/v1/analyses',
          headers: { ...AUTH, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(answer.status, answer.text.slice(0, 300)).toBe(202);
        const record = JSON.parse(answer.text) as { id: string; status: string; metadata: unknown };
        expect(record.status).toBe('queued');
        expect(answer.headers.get('location')).toBe(`/v1/analyses/${record.id}`);
        expect(record.metadata).toEqual(JSON.parse(JSON.stringify(body.metadata ?? {})));
      }),
      { numRuns: RUNS },
    );
  });

  it('random model ids that are not configured give 422 naming the first unknown one', async () => {
    const unknownModel = fc
      .tuple(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.stringMatching(/^[A-Za-z0-9._:-]{1,30}$/))
      .map(([provider, model]) => `${provider}/${model}`)
      .filter((id) => !(SIM_MODELS as readonly string[]).includes(id));
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray([...SIM_MODELS]),
        fc.uniqueArray(unknownModel, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        async (known, unknown, seed) => {
          const models: string[] = [...known];
          for (const [index, id] of unknown.entries())
            models.splice((seed + index) % (models.length + 1), 0, id);
          const answer = await check({
            method: 'POST',
            path: '/v1/analyses',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body: JSON.stringify({ prompt: 'which models?', models }),
          });
          expect(answer.status, answer.text).toBe(422);
          const problem = JSON.parse(answer.text) as { errors?: Array<{ path: string }> };
          const first = models.findIndex((id) => !(SIM_MODELS as readonly string[]).includes(id));
          expect(problem.errors?.[0]?.path).toBe(`/models/${first}`);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('random query strings', () => {
  const queryKey = fc.oneof(
    fc.constantFrom('status', 'limit', 'cursor', 'deltas', 'token', 'lastEventId', ...PROTO_KEYS, 'a[b]', ''),
    fc.string({ maxLength: 10 }),
  );
  const queryValue = fc.oneof(
    fc.constantFrom(
      'queued',
      'running',
      'succeeded',
      '0',
      '1',
      '100',
      '101',
      '-1',
      '1e2',
      '0x10',
      'NaN',
      'true',
      'false',
      'czE',
      'czk5OTk5OTk5OTk5OTk5OTk5',
      '',
    ),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.integer({ min: 190, max: 260 }).map((length) => 'c'.repeat(length)),
  );
  const query = fc.array(fc.tuple(queryKey, queryValue, fc.boolean()), { maxLength: 5 }).map((pairs) =>
    pairs
      .map(([key, value, encoded]) =>
        encoded
          ? `${encodeURIComponent(key)}=${encodeURIComponent(value)}`
          : // Raw printable text: the URL parser escapes what must be; stray `%`s stay.
            `${key.replace(/[^\x21-\x7e]|#/g, '')}=${value.replace(/[^\x21-\x7e]|#/g, '')}`,
      )
      .join('&'),
  );
  const path = fc.oneof(
    fc.constant('/v1/analyses'),
    fc.constant(undefined).map(() => `/v1/analyses/${stable[0]}/events`),
    fc.constant('/v1/analyses/an_missing/events'),
    fc.constant(undefined).map(() => `/v1/analyses/${stable[1]}`),
    fc.constant('/v1/patterns'),
    fc.constant('/v1/patterns/standard'),
    fc.constant('/v1/models'),
    fc.constant('/healthz'),
  );

  it('never give a 5xx on any GET route', async () => {
    await fc.assert(
      fc.asyncProperty(path, query, async (base, search) => {
        await check({ method: 'GET', path: search ? `${base}?${search}` : base, headers: AUTH });
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /v1/analyses: every page is well-formed and a returned nextCursor is accepted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.option(fc.constantFrom('queued', 'running', 'succeeded', 'failed', 'cancelled'), {
          nil: undefined,
        }),
        async (limit, status) => {
          const search = `limit=${limit}${status ? `&status=${status}` : ''}`;
          const first = await check({ method: 'GET', path: `/v1/analyses?${search}`, headers: AUTH });
          expect(first.status).toBe(200);
          const page = JSON.parse(first.text) as {
            data: Array<{ status: string }>;
            nextCursor: string | null;
          };
          expect(page.data.length).toBeLessThanOrEqual(limit);
          if (status) for (const summary of page.data) expect(summary.status).toBe(status);
          if (page.nextCursor) {
            const next = await check({
              method: 'GET',
              path: `/v1/analyses?${search}&cursor=${encodeURIComponent(page.nextCursor)}`,
              headers: AUTH,
            });
            expect(next.status).toBe(200);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('random headers at every route', () => {
  const route = fc.oneof(
    fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/analyses'), body: fc.constant(true) }),
    fc.record({ method: fc.constant('GET'), path: fc.constant('/v1/analyses'), body: fc.constant(false) }),
    fc.constantFrom(
      ...[
        ['GET', '/v1/analyses/:stable'],
        ['GET', '/v1/analyses/:stable/events'],
        ['GET', '/v1/analyses/:foreign/events'],
        ['POST', '/v1/analyses/:stable/cancel'],
        ['DELETE', '/v1/analyses/:disposable'],
        ['GET', '/v1/analyses/an_missing'],
        ['GET', '/v1/analyses/an_missing/events'],
        ['GET', '/v1/patterns'],
        ['GET', '/v1/patterns/standard'],
        ['GET', '/v1/models'],
        ['GET', '/healthz'],
        ['GET', '/readyz'],
      ].map(([method, path]) => ({ method: method!, path: path!, body: false })),
    ),
    fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/patterns'), body: fc.constant(true) }),
  );
  const patternBody = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
    title: fc.string({ maxLength: 20 }),
    description: fc.string({ maxLength: 20 }),
    stages: fc.constant([
      { name: 'first', mode: 'each', template: '{{prompt}}' },
      { name: 'last', mode: 'one', template: '{{responses}}' },
    ]),
  });

  it('never give a 5xx, and problems carry the request id', async () => {
    await fc.assert(
      fc.asyncProperty(
        route,
        randomHeaders,
        authorization,
        validBody,
        patternBody,
        async (target, headers, auth, body, pattern) => {
          const path = target.path
            .replace(':stable', stable[0] ?? 'x')
            .replace(':foreign', foreign || 'x')
            .replace(':disposable', disposable[0] ?? 'x');
          const request: Sent = {
            method: target.method,
            path,
            headers: { 'content-type': 'application/json', ...headers, authorization: auth },
          };
          if (target.body) request.body = JSON.stringify(path === '/v1/patterns' ? pattern : body);
          await check(request);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a random Last-Event-ID on an ended analysis gives 200, 204 or a 400 problem', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(printable(20), fc.nat({ max: 1000 }).map(String)),
        fc.constantFrom(0, 1, 2),
        async (lastEventId, which) => {
          const answer = await check({
            method: 'GET',
            path: `/v1/analyses/${stable[which]}/events`,
            headers: { ...AUTH, 'last-event-id': lastEventId },
          });
          expect([200, 204, 400]).toContain(answer.status);
          if (answer.status === 200) {
            expect(answer.headers.get('content-type')).toMatch(/^text\/event-stream/);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('random ids at every id route', () => {
  it('ids in valid percent-encoding never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), pathId, async (target, id) => {
        const request: Sent = { method: target.method, path: target.path(id), headers: AUTH };
        const answer = await check(request);
        if (id === foreign) expect([404]).toContain(answer.status);
      }),
      {
        numRuns: RUNS,
        examples: [
          [ID_ROUTES[0]!, '%00'],
          [ID_ROUTES[0]!, '..%2F'],
          [ID_ROUTES[3]!, '%F0%9F%98%80'],
          [ID_ROUTES[4]!, 'x'.repeat(150)],
        ],
      },
    );
  });

  it('ids that are not valid percent-encoding answer a problem, not a 5xx', async () => {
    const malformed = fc.oneof(
      fc.constantFrom('%', '%%', '%zz', '%FF', '%E0%A4%A', '%C3%28', '%ED%A0%80', 'abc%', '%C0%AF'),
      fc
        .tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), fc.integer({ min: 0x80, max: 0xff }))
        .map(([prefix, byte]) => `${encodeURIComponent(prefix)}%${byte.toString(16).toUpperCase()}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), malformed, async (target, id) => {
        const answer = await check({ method: target.method, path: target.path(id), headers: AUTH });
        expect(answer.status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 60, examples: [[ID_ROUTES[0]!, '%FF']] },
    );
  });

  it('very long ids answer a problem, not a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ID_ROUTES),
        fc.integer({ min: 501, max: 4000 }),
        async (target, length) => {
          const answer = await check({
            method: target.method,
            path: target.path('a'.repeat(length)),
            headers: AUTH,
          });
          expect(answer.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 40, examples: [[ID_ROUTES[0]!, 600]] },
    );
  });
});

describe('random paths and methods', () => {
  const segment = fc.oneof(
    fc.constantFrom(
      'v1',
      'analyses',
      'patterns',
      'models',
      'events',
      'cancel',
      'docs',
      'json',
      'healthz',
      'readyz',
      'metrics',
      '..',
      '.',
      '',
      '%2e%2e',
      '%00',
    ),
    fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent),
  );
  const randomPath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`);

  it('never give a 5xx, whatever the method', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomPath,
        fc.constantFrom(...METHODS),
        fc.option(fc.tuple(contentType, jsonText), { nil: undefined }),
        async (path, method, payload) => {
          const request: Sent = { method, path, headers: { ...AUTH } };
          if (payload && method !== 'GET') {
            request.headers!['content-type'] = payload[0];
            request.body = payload[1];
          }
          await check(request);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a path no route matches answers 404 not-found (405 is only for a known path)', async () => {
    const unknownPath = fc
      .tuple(
        fc
          .stringMatching(/^[a-z0-9_-]{1,12}$/)
          .filter((head) => !['v1', 'docs', 'healthz', 'readyz', 'metrics'].includes(head)),
        fc.array(fc.stringMatching(/^[a-z0-9_-]{1,12}$/), { maxLength: 3 }),
      )
      .map(([head, rest]) => `/${[head, ...rest].join('/')}`);
    await fc.assert(
      fc.asyncProperty(unknownPath, fc.constantFrom(...METHODS), async (path, method) => {
        const answer = await check({ method, path, headers: AUTH });
        expect(answer.status, `${method} ${path}`).toBe(404);
        expect((JSON.parse(answer.text) as { type: string }).type).toBe('/problems/not-found');
      }),
      { numRuns: 60, examples: [['/nope', 'GET']] },
    );
  });
});

describe('the largest allowed sizes', () => {
  /** A body of about `size` bytes, padded in `where`. */
  function paddedBody(size: number, where: 'whitespace' | 'metadata' | 'prompt' | 'unknown'): string {
    const base = '{"prompt":"largest","metadata":{"pad":""},"x":""}';
    const pad = Math.max(0, size - base.length);
    switch (where) {
      case 'whitespace':
        return `{"prompt":"largest"${' '.repeat(Math.max(0, size - 20))}}`;
      case 'metadata':
        return `{"prompt":"largest","metadata":{"pad":"${'m'.repeat(pad)}"}}`;
      case 'prompt':
        return `{"prompt":"${'p'.repeat(Math.max(0, size - 13))}"}`;
      case 'unknown':
        return `{"prompt":"largest","${'u'.repeat(pad)}":1}`;
    }
  }

  it('bodies at and just past BODY_LIMIT_BYTES give a problem or an analysis, never a 5xx', async () => {
    const limit = t.config.BODY_LIMIT_BYTES;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: limit - 256, max: limit + 256 }),
        fc.constantFrom('whitespace' as const, 'metadata' as const, 'prompt' as const, 'unknown' as const),
        fc.constantFrom('/v1/analyses', '/v1/patterns'),
        async (size, where, path) => {
          const body = paddedBody(size, where);
          const bytes = Buffer.byteLength(body);
          const answer = await check({
            method: 'POST',
            path,
            headers: { ...AUTH, 'content-type': 'application/json' },
            body,
          });
          if (bytes > limit) expect(answer.status, `${bytes} bytes`).toBe(413);
          else expect([202, 400, 413]).toContain(answer.status);
        },
      ),
      {
        numRuns: 24,
        examples: [
          [limit, 'whitespace', '/v1/analyses'],
          [limit + 1, 'metadata', '/v1/analyses'],
        ],
      },
    );
  });

  it('headers at and past the largest size the server accepts give a problem (431 past it), never a 5xx', async () => {
    const header = fc.constantFrom(
      'x-request-id',
      'idempotency-key',
      'authorization',
      'prefer',
      'last-event-id',
      'accept',
      'x-filler',
    );
    const route = fc.constantFrom(
      { method: 'GET', path: '/v1/models' },
      { method: 'GET', path: '/v1/analyses' },
      { method: 'GET', path: '/v1/patterns' },
      { method: 'GET', path: '/healthz' },
      { method: 'POST', path: '/v1/analyses' },
    );
    await fc.assert(
      fc.asyncProperty(
        route,
        header,
        fc.integer({ min: maxHeaderSize - 1024, max: maxHeaderSize + 2048 }),
        fc.constantFrom('a', 'Z', '9', '-', ' ', '"', '='),
        async (target, name, length, unit) => {
          const value = `v${unit.repeat(length)}v`;
          const headers: Record<string, string> = { ...AUTH, 'content-type': 'application/json' };
          headers[name] = name === 'authorization' ? `Bearer ${value}` : value;
          const request: Sent = { method: target.method, path: target.path, headers };
          if (target.method === 'POST') request.body = '{"prompt":"large headers"}';
          const answer = await check(request);
          if (length > maxHeaderSize) expect(answer.status).toBe(431);
        },
      ),
      {
        numRuns: 40,
        examples: [[{ method: 'GET', path: '/v1/models' }, 'x-filler', maxHeaderSize + 1, 'a']],
      },
    );
  });
});
