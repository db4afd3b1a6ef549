/**
 * `POST /v1/patterns/{name}/preview`: the prompts each stage would send, with
 * placeholder text for earlier outputs, on the models the request would
 * select, without calling a model. Checked against what a real run sends,
 * and bounded (MAX_ANALYSIS_INPUT_BYTES for the prompt, MAX_PREVIEW_BYTES for
 * what it renders). Custom patterns on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { useCountedUpstream } from '../support/counted-upstream.js';
import type { Problem } from '../support/problem.js';
import { A } from '../support/upstream-models.js';

interface Preview {
  pattern: string;
  stages: Array<{ name: string; mode: string; prompts: Array<{ model: string; prompt: string }> }>;
}

const headers = (key?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...(key ? { authorization: `Bearer ${key}` } : {}),
});

function preview(app: TestApp, name: string, body: unknown, key?: string): Promise<Response> {
  return fetch(`${app.url}/v1/patterns/${name}/preview`, {
    method: 'POST',
    headers: headers(key),
    body: JSON.stringify(body),
  });
}

async function previewed(app: TestApp, name: string, body: unknown, key?: string): Promise<Preview> {
  const answer = await preview(app, name, body, key);
  expect(answer.status, await answer.clone().text()).toBe(200);
  return json<Preview>(answer);
}

async function expectProblem(response: Response, status: number, type: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = await json<Problem>(response);
  expect(problem).toMatchObject({ status, type, detail: expect.any(String) });
  return problem;
}

// ---------------------------------------------------------------------------
// The preview is what a run sends.

describe('a preview shows what a run sends', () => {
  const upstream = useCountedUpstream();

  /**
   * Runs the pattern for real and checks every prompt against the preview:
   * each real answer in a real prompt, put back as its placeholder, gives the
   * previewed prompt exactly.
   */
  async function expectPreviewMatchesRun(pattern: string, body: Record<string, unknown> = {}) {
    const prompt = `Is ${pattern} a good idea?`;
    const shown = await previewed(upstream.app, pattern, { prompt, ...body });
    expect(shown.pattern).toBe(pattern);
    expect(upstream.seen, 'a preview calls no model').toHaveLength(0);

    const answer = await fetch(`${upstream.app.url}/v1/analyses`, {
      method: 'POST',
      headers: { ...headers(), prefer: 'wait=30' },
      body: JSON.stringify({ prompt, pattern, ...body, options: { cache: false } }),
    });
    const record = await json<AnalysisRecord>(answer);
    expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
    expect(shown.stages.map((s) => [s.name, s.prompts.map((p) => p.model)])).toEqual(
      record.stages.map((s) => [s.name, s.responses.map((r) => r.model)]),
    );

    const calls = new Map<string, number>();
    /** [stage, full model id, the real answer it gave]. */
    const answered: Array<[string, string, string]> = [];
    shown.stages.forEach((stage, index) => {
      const anonymized = record.stages[index]!.name === stage.name && isAnonymized(pattern, stage.name);
      const given: Array<[string, string, string]> = [];
      for (const { model, prompt: previewedPrompt } of stage.prompts) {
        const bare = model.replace(/^up\//, '');
        const n = (calls.get(bare) ?? 0) + 1;
        calls.set(bare, n);
        let real = upstream.prompt(bare, n);
        for (const [earlier, by, text] of answered) {
          const placeholder = anonymized
            ? `<an output of the ${earlier} stage>`
            : `<the ${earlier} output of ${by}>`;
          real = real.replaceAll(text, placeholder);
        }
        expect(real, `${stage.name} for ${model}`).toBe(previewedPrompt);
        given.push([stage.name, model, A(bare, n)]);
      }
      answered.push(...given);
    });
  }

  const anonymizedStages: Record<string, string[]> = { council: ['rankings'] };
  const isAnonymized = (pattern: string, stage: string) =>
    anonymizedStages[pattern]?.includes(stage) ?? false;

  it('standard, on the default selection', async () => {
    await expectPreviewMatchesRun('standard');
  });

  it('council: its anonymized reviews show no model id', async () => {
    await expectPreviewMatchesRun('council');
    const shown = await previewed(upstream.app, 'council', { prompt: 'Q' });
    const rankings = shown.stages.find((stage) => stage.name === 'rankings')!;
    for (const { prompt } of rankings.prompts) {
      expect(prompt).not.toMatch(/up\/m\d/);
      for (const label of ['Response A', 'Response B', 'Response C']) expect(prompt).toContain(label);
    }
  });

  it('moa, on the models and synthesis model the request names', async () => {
    await expectPreviewMatchesRun('moa', { models: ['up/m3', 'up/m2'], synthesisModel: 'up/m2' });
  });

  it('a placeholder stands for each earlier output, by stage and model', async () => {
    const shown = await previewed(upstream.app, 'standard', { prompt: 'Why is the sky blue?' });
    expect(shown.stages.map((stage) => [stage.name, stage.mode, stage.prompts.map((p) => p.model)])).toEqual([
      ['initial', 'each', ['up/m1', 'up/m2', 'up/m3']],
      ['meta', 'each', ['up/m1', 'up/m2', 'up/m3']],
      ['synthesis', 'one', ['up/m1']],
    ]);
    expect(shown.stages[0]!.prompts[0]!.prompt).toBe('Why is the sky blue?');
    const meta = shown.stages[1]!.prompts[0]!.prompt;
    for (const model of ['up/m1', 'up/m2', 'up/m3']) {
      expect(meta).toContain(`### ${model}\n<the initial output of ${model}>`);
    }
    const synthesis = shown.stages[2]!.prompts[0]!.prompt;
    expect(synthesis).toContain('<the initial output of up/m2>');
    expect(synthesis).toContain('<the meta output of up/m3>');
  });

  it('a prompt with {{…}} in it stays as it is', async () => {
    const shown = await previewed(upstream.app, 'standard', { prompt: 'What does {{responses}} mean?' });
    expect(shown.stages[0]!.prompts[0]!.prompt).toBe('What does {{responses}} mean?');
  });
});

// ---------------------------------------------------------------------------
// Custom patterns, refusals and limits, on both stores.

const custom = {
  name: 'draft_and_judge',
  title: 'Draft and judge',
  description: 'Drafts, self-review, a judgement.',
  stages: [
    { name: 'draft', mode: 'each', template: 'Draft: {{prompt}}' },
    {
      name: 'revise',
      mode: 'each',
      template: 'Yours:\n{{own_response}}\n\nOthers:\n{{other_responses}}',
    },
    {
      name: 'judge',
      mode: 'one',
      template: 'Q: {{prompt}}\nDrafts:\n{{stages.draft}}\nRevisions:\n{{responses}}',
    },
  ],
};

describe.each(STORES)('POST /v1/patterns/{name}/preview ($name store)', ({ env }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      env: {
        ...env,
        API_KEYS: 'k1,k2',
        MAX_ANALYSIS_INPUT_BYTES: '4096',
        MAX_METADATA_BYTES: '1024',
        MAX_PREVIEW_BYTES: '65536',
      },
    });
    const created = await fetch(`${t.url}/v1/patterns`, {
      method: 'POST',
      headers: headers('k1'),
      body: JSON.stringify(custom),
    });
    expect(created.status).toBe(201);
  });
  afterAll(() => t.close());

  it("renders the owner's custom pattern on the selected models, exactly", async () => {
    const shown = await previewed(
      t,
      custom.name,
      { prompt: 'Tabs?', models: ['sim/beta', 'sim/gamma'], synthesisModel: 'sim/gamma' },
      'k1',
    );
    const draft = (model: string) => `### ${model}\n<the draft output of ${model}>`;
    const revise = (model: string) => `### ${model}\n<the revise output of ${model}>`;
    expect(shown).toEqual({
      pattern: custom.name,
      stages: [
        {
          name: 'draft',
          mode: 'each',
          prompts: [
            { model: 'sim/beta', prompt: 'Draft: Tabs?' },
            { model: 'sim/gamma', prompt: 'Draft: Tabs?' },
          ],
        },
        {
          name: 'revise',
          mode: 'each',
          prompts: [
            {
              model: 'sim/beta',
              prompt: `Yours:\n<the draft output of sim/beta>\n\nOthers:\n${draft('sim/gamma')}`,
            },
            {
              model: 'sim/gamma',
              prompt: `Yours:\n<the draft output of sim/gamma>\n\nOthers:\n${draft('sim/beta')}`,
            },
          ],
        },
        {
          name: 'judge',
          mode: 'one',
          prompts: [
            {
              model: 'sim/gamma',
              prompt: `Q: Tabs?\nDrafts:\n${draft('sim/beta')}\n\n${draft('sim/gamma')}\nRevisions:\n${revise('sim/beta')}\n\n${revise('sim/gamma')}`,
            },
          ],
        },
      ],
    });
  });

  it("another key's custom pattern and a name that does not exist are 404", async () => {
    await expectProblem(await preview(t, custom.name, { prompt: 'x' }, 'k2'), 404, '/problems/not-found');
    await expectProblem(await preview(t, 'nope', { prompt: 'x' }, 'k1'), 404, '/problems/not-found');
  });

  it('a model that is not configured is 422 pointing at it, as for an analysis', async () => {
    const problem = await expectProblem(
      await preview(t, 'standard', { prompt: 'x', models: ['sim/alpha', 'sim/nope'] }, 'k1'),
      422,
      '/problems/unprocessable-entity',
    );
    expect(problem.errors!.map((error) => error.path)).toEqual(['/models/1']);
    expect(problem.detail).toContain('sim/alpha');
  });

  it('a body without a prompt, or with an unknown key, is 400', async () => {
    for (const body of [{}, { prompt: '' }, { prompt: 'x', pattern: 'standard' }]) {
      await expectProblem(await preview(t, 'standard', body, 'k1'), 400, '/problems/validation-error');
    }
  });

  it('a prompt over MAX_ANALYSIS_INPUT_BYTES is 413 naming the variable', async () => {
    const problem = await expectProblem(
      await preview(t, 'standard', { prompt: 'x'.repeat(5000) }, 'k1'),
      413,
      '/problems/payload-too-large',
    );
    expect(problem.detail).toContain('MAX_ANALYSIS_INPUT_BYTES');
  });

  it('a template that repeats the prompt cannot make a preview render past MAX_PREVIEW_BYTES (413)', async () => {
    // 2,000 copies of a 4 KB prompt per model would be 8 MB a prompt.
    const echo = {
      name: 'echo',
      title: 'Echo',
      description: 'Repeats the prompt.',
      stages: [{ name: 'loud', mode: 'each', template: '{{prompt}}'.repeat(2000) }],
    };
    const created = await fetch(`${t.url}/v1/patterns`, {
      method: 'POST',
      headers: headers('k1'),
      body: JSON.stringify(echo),
    });
    expect(created.status).toBe(201);
    const problem = await expectProblem(
      await preview(t, 'echo', { prompt: 'y'.repeat(4000) }, 'k1'),
      413,
      '/problems/payload-too-large',
    );
    expect(problem.detail).toContain('65536');
    expect(problem.detail).toContain('MAX_PREVIEW_BYTES');
    expect(problem.detail).toContain(String(3 * 2000 * 4000));
    // Within the limit it renders: 3 models × 2,000 × 10 bytes.
    const small = await previewed(t, 'echo', { prompt: 'z'.repeat(10) }, 'k1');
    expect(small.stages[0]!.prompts.map((p) => p.prompt.length)).toEqual([20_000, 20_000, 20_000]);
  });

  it('requires authentication', async () => {
    await expectProblem(await preview(t, 'standard', { prompt: 'x' }), 401, '/problems/unauthorized');
  });
});
