/**
 * The `direct` pattern (one model, the prompt itself) and pattern `defaults`
 * (a named panel): in the catalog, on custom patterns (validated) and from
 * PATTERNS_DIR, over HTTP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { loadPatternsDir } from '../../src/orchestration/patterns/load-dir.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';

const post = (app: TestApp, path: string, body: unknown) =>
  fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'wait=30' },
    body: JSON.stringify(body),
  });

const PANEL = {
  name: 'duo',
  title: 'Duo',
  description: 'Two models, one answer.',
  stages: [
    { name: 'draft', mode: 'each', template: '{{prompt}}' },
    { name: 'final', mode: 'one', template: 'Combine:\n{{responses}}' },
  ],
  defaults: { models: ['sim/beta', 'sim/gamma'], synthesisModel: 'sim/gamma', options: { maxTokens: 77 } },
};

describe.each(STORES)('direct and pattern defaults ($name store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env });
  });
  afterAll(() => app.close());

  it('lists direct as a built-in with one stage, answer (one), whose template is the prompt', async () => {
    const direct = await json<{ stages: unknown[] }>(await fetch(`${app.url}/v1/patterns/direct`));
    expect(direct.stages).toEqual([{ name: 'answer', mode: 'one', template: '{{prompt}}' }]);
  });

  it('runs direct as one call of the synthesis model whose text is the answer', async () => {
    const record = await json<AnalysisRecord>(
      await post(app, '/v1/analyses', { prompt: 'Hello?', pattern: 'direct', models: ['sim/beta'] }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.stages.map((stage) => [stage.name, stage.responses.length])).toEqual([['answer', 1]]);
    expect(record.result).toMatchObject({ model: 'sim/beta', text: record.stages[0]!.responses[0]!.text });
  });

  it('runs a custom pattern with defaults as its panel when the request names none', async () => {
    const created = await post(app, '/v1/patterns', PANEL);
    expect(created.status).toBe(201);
    expect((await json<{ defaults: unknown }>(created)).defaults).toEqual(PANEL.defaults);
    const record = await json<AnalysisRecord>(
      await post(app, '/v1/analyses', { prompt: 'Q', pattern: 'duo' }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.models).toEqual(['sim/beta', 'sim/gamma']);
    expect(record.synthesisModel).toBe('sim/gamma');
    // The request's own choice wins over the defaults.
    const chosen = await json<AnalysisRecord>(
      await post(app, '/v1/analyses', { prompt: 'Q', pattern: 'duo', models: ['sim/alpha'] }),
    );
    expect(chosen.models).toEqual(['sim/alpha']);
    expect(chosen.synthesisModel).toBe('sim/alpha');
  });

  it('refuses invalid defaults with a 400 pointing into them', async () => {
    const response = await post(app, '/v1/patterns', {
      ...PANEL,
      name: 'bad_panel',
      defaults: { models: ['nope'], options: { temperature: 9, colour: 'red' }, extra: 1 },
    });
    expect(response.status).toBe(400);
    const problem = await json<{ errors: { path: string; message: string }[] }>(response);
    const paths = problem.errors.map((error) => error.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/defaults/models/0', '/defaults/options/temperature', '/defaults/extra']),
    );
    const unknown = problem.errors.find((error) => error.path === '/defaults/extra')!;
    expect(unknown.message).toContain('models, synthesisModel, options');
  });
});

describe('defaults from PATTERNS_DIR', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-panel-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads a panel pattern from a file and runs it with its defaults', async () => {
    await writeFile(
      join(dir, 'solo.yaml'),
      'name: solo\ntitle: Solo\ndescription: Gamma alone.\nstages:\n  - name: answer\n    mode: one\n    template: "{{prompt}}"\ndefaults:\n  models: [sim/gamma]\n',
    );
    const patterns = await loadPatternsDir(dir);
    expect(patterns[0]!.defaults).toEqual({ models: ['sim/gamma'] });
    const app = await startApp({ patterns });
    try {
      const record = await json<AnalysisRecord>(
        await post(app, '/v1/analyses', { prompt: 'Q', pattern: 'solo' }),
      );
      expect(record.status).toBe('succeeded');
      expect(record.result!.model).toBe('sim/gamma');
    } finally {
      await app.close();
    }
  });
});
