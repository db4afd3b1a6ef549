import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPatternsDir, PatternLoadError } from '../../src/orchestration/patterns/load-dir.js';
import { PROS_CONS_YAML } from '../support/pattern-files.js';

const GOOD = PROS_CONS_YAML;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-patterns-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(): Promise<PatternLoadError> {
  try {
    await loadPatternsDir(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(PatternLoadError);
    return err as PatternLoadError;
  }
  throw new Error('loadPatternsDir did not throw');
}

describe('loadPatternsDir', () => {
  it('loads every .yaml and .yml file in name order and ignores other files', async () => {
    await writeFile(join(dir, 'b.yaml'), GOOD);
    await writeFile(join(dir, 'a.yml'), GOOD.replace('name: pros_cons', 'name: quick'));
    await writeFile(join(dir, 'README.md'), '# not a pattern');
    await mkdir(join(dir, 'nested.yaml'));

    const patterns = await loadPatternsDir(dir);
    expect(patterns.map((p) => p.name)).toEqual(['quick', 'pros_cons']);
    expect(patterns[1]).toEqual({
      name: 'pros_cons',
      title: 'Pros and cons',
      description: 'Each model lists pros and cons; one model weighs them.',
      stages: [
        { name: 'draft', mode: 'each', template: 'List the pros and cons of:\n{{prompt}}\n' },
        { name: 'verdict', mode: 'one', template: 'Question: {{prompt}}\n\nLists:\n{{responses}}\n' },
      ],
    });
  });

  it('returns nothing for an empty folder', async () => {
    await expect(loadPatternsDir(dir)).resolves.toEqual([]);
  });

  it('names the file and line of a YAML syntax error', async () => {
    await writeFile(
      join(dir, 'broken.yaml'),
      'name: broken\ntitle: Broken\nstages:\n  - name: a\n    mode: [each\n',
    );
    const err = await loadError();
    expect(err.message).toMatch(/broken\.yaml:\d+: YAML syntax error/);
    expect(err.problems[0]!.line).toBeGreaterThanOrEqual(5);
  });

  it('names the file, line and path of every validation problem', async () => {
    const bad = GOOD.replace('    mode: one', '    mode: some').replace(
      '{{responses}}',
      '{{responses}} {{answers}}',
    );
    await writeFile(join(dir, 'bad.yaml'), `${bad}extra: 1\n`);
    const err = await loadError();
    expect(err.problems.map((p) => [p.line, p.path])).toEqual([
      [11, '/stages/1/mode'],
      [12, '/stages/1/template'],
      [17, '/extra'],
    ]);
    expect(err.message).toContain('bad.yaml:11: /stages/1/mode: mode must be "each"');
    expect(err.message).toContain('bad.yaml:12: /stages/1/template: unknown variable {{answers}}');
    expect(err.message).toContain('bad.yaml:17: /extra: unknown key "extra"');
  });

  it('points a missing key at the nearest enclosing node', async () => {
    await writeFile(join(dir, 'untitled.yaml'), GOOD.replace('title: Pros and cons\n', ''));
    const err = await loadError();
    expect(err.problems).toEqual([
      { file: 'untitled.yaml', line: 1, path: '/title', message: 'title is required' },
    ]);
  });

  it('reports problems in every file at once', async () => {
    await writeFile(join(dir, 'one.yaml'), GOOD.replace('name: pros_cons', 'name: Bad'));
    await writeFile(join(dir, 'two.yaml'), '');
    await writeFile(join(dir, 'three.yaml'), GOOD);
    const err = await loadError();
    expect(err.problems.map((p) => `${p.file}:${p.line}:${p.path}`)).toEqual([
      'one.yaml:1:/name',
      'two.yaml:1:',
    ]);
    expect(err.message).toMatch(/^Invalid pattern files in .* \(2 problems\):/);
  });

  it('refuses a built-in name and a name used twice', async () => {
    await writeFile(join(dir, 'a.yaml'), GOOD.replace('name: pros_cons', 'name: council'));
    await writeFile(join(dir, 'b.yaml'), GOOD);
    await writeFile(join(dir, 'c.yaml'), `# the same again\n${GOOD}`);
    const err = await loadError();
    expect(err.problems.map((p) => [p.file, p.line, p.message])).toEqual([
      ['a.yaml', 1, '"council" is the name of a built-in pattern; choose another name'],
      ['c.yaml', 2, 'pattern name "pros_cons" is already used by b.yaml; names must be unique'],
    ]);
  });

  it('fails clearly when the folder cannot be read', async () => {
    await expect(loadPatternsDir(join(dir, 'missing'))).rejects.toThrow(
      /Cannot read the patterns folder .*missing/,
    );
  });
});
