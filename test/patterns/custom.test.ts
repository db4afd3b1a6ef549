/**
 * Custom patterns: `POST /v1/patterns` (ownership per API key, conflicts,
 * validation with a JSON Pointer per problem), running them, and patterns
 * loaded from a PATTERNS_DIR folder.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { loadPatternsDir, PatternLoadError } from '../../src/orchestration/patterns/load-dir.js';
import { FAST_SIM, json, startApp, type TestApp } from '../support/app.js';
import { useCountedUpstream } from '../support/counted-upstream.js';
import { PROS_CONS_YAML } from '../support/pattern-files.js';
import type { Problem } from '../support/problem.js';
import { A, MODELS, occurrences } from '../support/upstream-models.js';

type Json = Record<string, unknown>;

const auth = (key: string | undefined): Record<string, string> =>
  key ? { authorization: `Bearer ${key}` } : {};

function postPattern(app: TestApp, body: unknown, key?: string): Promise<Response> {
  return fetch(`${app.url}/v1/patterns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(key) },
    body: JSON.stringify(body),
  });
}

function postAnalysis(app: TestApp, body: Json, key?: string): Promise<Response> {
  return fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'wait=30', ...auth(key) },
    body: JSON.stringify(body),
  });
}

/** Runs an analysis that must succeed, and returns its record. */
async function succeededAnalysis(app: TestApp, body: Json, key?: string): Promise<AnalysisRecord> {
  const answer = await postAnalysis(app, body, key);
  expect(answer.status).toBe(200);
  const record = await json<AnalysisRecord>(answer);
  expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
  return record;
}

/** Each stage of a record as `[name, status, responses]`. */
const stageSummary = (record: AnalysisRecord) =>
  record.stages.map((s) => [s.name, s.status, s.responses.length]);

async function expectProblem(response: Response, status: number, type: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = await json<Problem>(response);
  expect(problem).toMatchObject({ status, type, instance: expect.any(String), title: expect.any(String) });
  return problem;
}

/** A valid two-stage pattern; the table below breaks copies of it. */
const good = (): Json & { stages: Json[] } => ({
  name: 'two_step',
  title: 'Two step',
  description: 'Every model drafts; one model reviews the drafts.',
  stages: [
    { name: 'draft', mode: 'each', template: 'Draft an answer to: {{prompt}}' },
    { name: 'review', mode: 'one', template: 'Question: {{prompt}}\n\nDrafts:\n{{responses}}' },
  ],
});

function stageWith(index: number, patch: Json): (p: ReturnType<typeof good>) => void {
  return (p) => {
    p.stages[index] = { ...p.stages[index], ...patch };
  };
}

/** [what is wrong, how to break the good pattern, the JSON Pointer that must be reported] */
const BAD: Array<[string, (p: ReturnType<typeof good>) => void, string]> = [
  [
    'unknown variable in a template',
    stageWith(1, { template: '{{prompt}} {{answers}}' }),
    '/stages/1/template',
  ],
  [
    'stages.<later stage>',
    stageWith(0, { template: '{{prompt}} and {{stages.review}}' }),
    '/stages/0/template',
  ],
  ['stages.<stage that does not exist>', stageWith(1, { template: '{{stages.nope}}' }), '/stages/1/template'],
  ['stages.<the stage itself>', stageWith(1, { template: '{{stages.review}}' }), '/stages/1/template'],
  ['duplicate stage names', stageWith(1, { name: 'draft' }), '/stages/1/name'],
  ['own_response in the first stage', stageWith(0, { template: '{{own_response}}' }), '/stages/0/template'],
  [
    'responses in the first stage',
    stageWith(0, { template: '{{prompt}} {{responses}}' }),
    '/stages/0/template',
  ],
  ['bad mode', stageWith(1, { mode: 'all' }), '/stages/1/mode'],
  [
    'empty stages',
    (p) => {
      p.stages = [];
    },
    '/stages',
  ],
  [
    'too many stages',
    (p) => {
      p.stages = Array.from({ length: 11 }, (_, i) => ({
        name: `s${i}`,
        mode: 'each',
        template: '{{prompt}}',
      }));
    },
    '/stages',
  ],
  ['oversized template', stageWith(0, { template: `{{prompt}}${'x'.repeat(20_000)}` }), '/stages/0/template'],
  ['blank template', stageWith(0, { template: '   ' }), '/stages/0/template'],
  ['missing template', (p) => delete p.stages[0]!.template, '/stages/0/template'],
  ['minResponses on a one stage', stageWith(1, { minResponses: 2 }), '/stages/1/minResponses'],
  ['minResponses of 0', stageWith(0, { minResponses: 0 }), '/stages/0/minResponses'],
  ['parse ranking without anonymize', stageWith(1, { mode: 'each', parse: 'ranking' }), '/stages/1/parse'],
  [
    'unknown key on the pattern',
    (p) => {
      p.color = 'blue';
    },
    '/color',
  ],
  ['unknown key on a stage', stageWith(0, { temperature: 0.2 }), '/stages/0/temperature'],
  [
    'bad name (spaces, capitals)',
    (p) => {
      p.name = 'Two Step';
    },
    '/name',
  ],
  [
    'bad name (too long)',
    (p) => {
      p.name = `a${'b'.repeat(64)}`;
    },
    '/name',
  ],
  ['bad stage name', stageWith(0, { name: 'Draft/1' }), '/stages/0/name'],
  ['missing title', (p) => delete p.title, '/title'],
  [
    'stages not a list',
    (p) => {
      (p as Json).stages = 'draft, review';
    },
    '/stages',
  ],
];

describe('POST /v1/patterns', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ providers: [FAST_SIM], env: { API_KEYS: 'k1,k2' } });
  });
  afterAll(() => app.close());

  it('registers a pattern for its API key only: 201 + Location, usable and listed for k1, invisible to k2', async () => {
    const definition = { ...good(), name: 'mine' };
    const created = await postPattern(app, definition, 'k1');
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/patterns/mine');
    expect(await json(created)).toEqual(definition);

    const fetched = await fetch(`${app.url}/v1/patterns/mine`, { headers: auth('k1') });
    expect(fetched.status).toBe(200);
    expect(await json(fetched)).toEqual(definition);
    const listed = await json<{ data: Array<{ name: string }> }>(
      await fetch(`${app.url}/v1/patterns`, { headers: auth('k1') }),
    );
    expect(listed.data.map((p) => p.name)).toContain('mine');
    expect(listed.data.map((p) => p.name)).toContain('standard');

    const record = await succeededAnalysis(app, { prompt: 'What is a monad?', pattern: 'mine' }, 'k1');
    expect(record.pattern).toBe('mine');
    expect(stageSummary(record)).toEqual([
      ['draft', 'succeeded', 3],
      ['review', 'succeeded', 1],
    ]);
    expect(record.result!.text).toBe(record.stages[1]!.responses[0]!.text);

    // k2 cannot see it, list it or use it.
    await expectProblem(
      await fetch(`${app.url}/v1/patterns/mine`, { headers: auth('k2') }),
      404,
      '/problems/not-found',
    );
    const theirs = await json<{ data: Array<{ name: string }> }>(
      await fetch(`${app.url}/v1/patterns`, { headers: auth('k2') }),
    );
    expect(theirs.data.map((p) => p.name)).not.toContain('mine');
    expect(theirs.data.map((p) => p.name)).toContain('standard');
    const refused = await expectProblem(
      await postAnalysis(app, { prompt: 'What is a monad?', pattern: 'mine' }, 'k2'),
      422,
      '/problems/unprocessable-entity',
    );
    expect(refused.errors?.map((e) => e.path)).toContain('/pattern');
  });

  it('answers 409 for a taken name: a built-in, or a second POST of the same custom name', async () => {
    for (const key of ['k1', 'k2']) {
      const problem = await expectProblem(
        await postPattern(app, { ...good(), name: 'standard' }, key),
        409,
        '/problems/conflict',
      );
      expect(problem.detail).toContain('standard');
    }
    expect((await postPattern(app, { ...good(), name: 'twice' }, 'k1')).status).toBe(201);
    const again = await postPattern(app, { ...good(), name: 'twice', title: 'Another title' }, 'k1');
    await expectProblem(again, 409, '/problems/conflict');
    // The first definition stands.
    const kept = await json<{ title: string }>(
      await fetch(`${app.url}/v1/patterns/twice`, { headers: auth('k1') }),
    );
    expect(kept.title).toBe('Two step');
  });

  it('requires authentication', async () => {
    const answer = await postPattern(app, { ...good(), name: 'anon' });
    await expectProblem(answer, 401, '/problems/unauthorized');
  });

  it.each(BAD)('400 for %s, pointing at the problem', async (_what, breakIt, path) => {
    const body = good();
    breakIt(body);
    const problem = await expectProblem(
      await postPattern(app, body, 'k1'),
      400,
      '/problems/validation-error',
    );
    expect(problem.instance).toBe('/v1/patterns');
    expect(problem.errors?.length).toBeGreaterThan(0);
    expect(problem.errors!.map((e) => e.path)).toContain(path);
    for (const error of problem.errors!) expect(error.message).toEqual(expect.any(String));
  });

  it('lists ALL the problems of a definition at once', async () => {
    const body = good();
    body.name = 'Bad Name';
    body.extra = true;
    body.stages = [
      { name: 'draft', mode: 'each', template: '{{own_response}}' },
      { name: 'draft', mode: 'sometimes', template: '{{prompt}} {{answers}} {{stages.later}}' },
      { name: 'verdict', mode: 'one', template: '{{responses}}', minResponses: 2 },
    ];
    const problem = await expectProblem(
      await postPattern(app, body, 'k1'),
      400,
      '/problems/validation-error',
    );
    const paths = problem.errors!.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/name',
        '/extra',
        '/stages/0/template',
        '/stages/1/name',
        '/stages/1/mode',
        '/stages/1/template',
        '/stages/2/minResponses',
      ]),
    );
    // Both template problems of stage 1 are reported.
    expect(problem.errors!.filter((e) => e.path === '/stages/1/template')).toHaveLength(2);
  });

  it('registered nothing while refusing the bad definitions', async () => {
    await expectProblem(
      await fetch(`${app.url}/v1/patterns/two_step`, { headers: auth('k1') }),
      404,
      '/problems/not-found',
    );
    expect((await postPattern(app, good(), 'k1')).status).toBe(201);
  });

  it("a one-stage each pattern run on one model gives that model's answer as the result", async () => {
    const solo = {
      name: 'solo',
      title: 'Solo',
      description: 'Every selected model answers; nothing else.',
      stages: [{ name: 'answer', mode: 'each', template: '{{prompt}}' }],
    };
    expect((await postPattern(app, solo, 'k1')).status).toBe(201);
    const record = await succeededAnalysis(
      app,
      { prompt: 'Name a prime number.', pattern: 'solo', models: ['sim/beta'] },
      'k1',
    );
    expect(record.models).toEqual(['sim/beta']);
    expect(record.stages).toHaveLength(1);
    const only = record.stages[0]!.responses;
    expect(only.map((r) => [r.model, r.status])).toEqual([['sim/beta', 'succeeded']]);
    expect(record.result).toEqual({
      text: only[0]!.text,
      model: 'sim/beta',
      fallbackFrom: null,
      degraded: false,
    });
  });
});

// ---------------------------------------------------------------------------
// Custom patterns on a fake upstream: what each stage is shown.

describe('custom patterns on a fake upstream', () => {
  const upstream = useCountedUpstream();
  const { prompt } = upstream;

  async function register(definition: Json): Promise<void> {
    const created = await postPattern(upstream.app, definition);
    expect(created.status, JSON.stringify(await created.clone().json())).toBe(201);
  }

  it('renders own_response, anonymized other_responses, stages.<name> and responses as promised', async () => {
    await register({
      name: 'blind_review',
      title: 'Blind review',
      description: 'Drafts, anonymous peer reviews, a verdict.',
      stages: [
        { name: 'draft', mode: 'each', template: 'Draft an answer to: {{prompt}}' },
        {
          name: 'review',
          mode: 'each',
          anonymize: true,
          minResponses: 2,
          template:
            'Question: {{prompt}}\n\nYour draft:\n{{own_response}}\n\nThe other drafts:\n{{other_responses}}',
        },
        { name: 'verdict', mode: 'one', template: 'Drafts:\n{{stages.draft}}\n\nReviews:\n{{responses}}' },
      ],
    });
    const userPrompt = 'Tabs or spaces?';
    const answer = await postAnalysis(upstream.app, {
      prompt: userPrompt,
      pattern: 'blind_review',
      options: { cache: false },
    });
    const record = await json<AnalysisRecord>(answer);
    expect(record.status).toBe('succeeded');
    expect(stageSummary(record)).toEqual([
      ['draft', 'succeeded', 3],
      ['review', 'succeeded', 3],
      ['verdict', 'succeeded', 1],
    ]);
    for (const model of MODELS) {
      expect(prompt(model, 1)).toBe(`Draft an answer to: ${userPrompt}`);
      const review = prompt(model, 2);
      expect(review).toContain(userPrompt);
      for (const other of MODELS) expect(occurrences(review, A(other, 1))).toBe(1);
      expect(review).not.toMatch(/up\/m\d/);
      expect(review).toMatch(/Response [A-C]/);
    }
    const verdict = prompt('m1', 3);
    for (const model of MODELS) {
      expect(verdict).toContain(A(model, 1));
      expect(verdict).toContain(A(model, 2));
    }
    expect(record.result).toEqual({ text: A('m1', 3), model: 'up/m1', fallbackFrom: null, degraded: false });
  });

  it('an anonymized stage shows no model id, not even in {{stages.<name>}}', async () => {
    await register({
      name: 'blind_panel',
      title: 'Blind panel',
      description: 'Drafts, polished drafts, then an anonymous judgement of both.',
      stages: [
        { name: 'draft', mode: 'each', template: '{{prompt}}' },
        { name: 'polish', mode: 'each', template: 'Improve your draft:\n{{own_response}}' },
        {
          name: 'judge',
          mode: 'each',
          anonymize: true,
          template:
            'Original drafts:\n{{stages.draft}}\n\nPolished versions:\n{{responses}}\n\nWhich is best?',
        },
      ],
    });
    const answer = await postAnalysis(upstream.app, {
      prompt: 'Name a good variable name.',
      pattern: 'blind_panel',
    });
    const record = await json<AnalysisRecord>(answer);
    expect(record.status).toBe('succeeded');
    for (const model of MODELS) {
      const judge = prompt(model, 3);
      for (const other of MODELS) {
        expect(judge).toContain(A(other, 1));
        expect(judge).toContain(A(other, 2));
      }
      expect(judge, `${model}'s anonymized judge prompt`).not.toMatch(/up\/m\d/);
    }
  });
});

// ---------------------------------------------------------------------------
// PATTERNS_DIR

const YAML_PATTERN = `# A pattern shared by every API key\n${PROS_CONS_YAML}`;

describe('PATTERNS_DIR', () => {
  let dir: string;
  const dirs: string[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-patterns-'));
    dirs.push(dir);
  });
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('a pattern loaded from the folder is listed for every key and runs', async () => {
    await writeFile(join(dir, 'pros-cons.yaml'), YAML_PATTERN);
    await writeFile(join(dir, 'README.md'), 'not a pattern');
    const patterns = await loadPatternsDir(dir);
    expect(patterns.map((p) => p.name)).toEqual(['pros_cons']);
    const app = await startApp({ providers: [FAST_SIM], patterns, env: { API_KEYS: 'k1,k2' } });
    try {
      for (const key of ['k1', 'k2']) {
        const list = await json<{ data: Array<{ name: string }> }>(
          await fetch(`${app.url}/v1/patterns`, { headers: auth(key) }),
        );
        expect(list.data.map((p) => p.name)).toContain('pros_cons');
        const one = await json<{ stages: Array<{ name: string; mode: string }> }>(
          await fetch(`${app.url}/v1/patterns/pros_cons`, { headers: auth(key) }),
        );
        expect(one.stages.map((s) => [s.name, s.mode])).toEqual([
          ['draft', 'each'],
          ['verdict', 'one'],
        ]);
      }
      const record = await succeededAnalysis(app, { prompt: 'Remote work', pattern: 'pros_cons' }, 'k2');
      expect(stageSummary(record)).toEqual([
        ['draft', 'succeeded', 3],
        ['verdict', 'succeeded', 1],
      ]);
      expect(record.result!.text).toBe(record.stages[1]!.responses[0]!.text);
      // Its name is taken for custom patterns.
      await expectProblem(
        await postPattern(app, { ...good(), name: 'pros_cons' }, 'k1'),
        409,
        '/problems/conflict',
      );
    } finally {
      await app.close();
    }
  });

  async function loadError(): Promise<PatternLoadError> {
    const error = await loadPatternsDir(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(PatternLoadError);
    return error as PatternLoadError;
  }

  it('bad YAML yields an error naming the file and the line', async () => {
    await writeFile(join(dir, 'good.yaml'), YAML_PATTERN);
    // Line 8 is indented with a tab.
    await writeFile(
      join(dir, 'tabbed.yaml'),
      'name: tabbed\ntitle: Tabbed\ndescription: x\nstages:\n  - name: a\n    mode: each\n    template: "{{prompt}}"\n\tanonymize: true\n',
    );
    // Line 7 repeats a key.
    await writeFile(
      join(dir, 'twice.yml'),
      'name: twice\ntitle: Twice\ndescription: x\nstages:\n  - name: a\n    mode: each\n    mode: one\n    template: "{{prompt}}"\n',
    );
    const error = await loadError();
    expect(error.message).toMatch(/tabbed\.yaml:8: YAML syntax error/);
    expect(error.message).toMatch(/twice\.yml:7: YAML syntax error/);
    expect(error.message).not.toContain('good.yaml');
    expect(error.problems.map((p) => [p.file, p.line])).toEqual([
      ['tabbed.yaml', 8],
      ['twice.yml', 7],
    ]);
  });

  it('an invalid pattern in YAML yields the file, the line and the JSON Pointer', async () => {
    await writeFile(join(dir, 'pros-cons.yaml'), YAML_PATTERN.replace('{{responses}}', '{{answers}}'));
    const error = await loadError();
    expect(error.problems).toEqual([
      {
        file: 'pros-cons.yaml',
        line: 13,
        path: '/stages/1/template',
        message: expect.stringContaining('{{answers}}'),
      },
    ]);
    expect(error.message).toContain('pros-cons.yaml:13: /stages/1/template:');
  });
});
