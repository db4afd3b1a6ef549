import { describe, expect, it } from 'vitest';
import {
  type PatternValidationOptions,
  patternDefinitionSchema,
  toJsonPointer,
  validatePatternDefinition,
} from '../../src/orchestration/patterns/validate.js';

/** A valid custom pattern; each bad case below changes one thing. */
function good() {
  return {
    name: 'pros_cons',
    title: 'Pros and cons',
    description: 'Each model lists pros and cons; one model weighs them.',
    stages: [
      { name: 'draft', mode: 'each', template: 'List pros and cons:\n{{prompt}}' },
      {
        name: 'review',
        mode: 'each',
        anonymize: true,
        minResponses: 2,
        template: 'Yours:\n{{own_response}}\nOthers:\n{{other_responses}}',
      },
      { name: 'verdict', mode: 'one', template: '{{prompt}}\n{{stages.draft}}\n{{responses}}' },
    ],
  };
}

type Pattern = ReturnType<typeof good> & Record<string, unknown>;
type Stage = Record<string, unknown>;

function withStage(i: number, change: (s: Stage) => void): Pattern {
  const p = good() as Pattern;
  change(p.stages[i] as Stage);
  return p;
}

function with_(change: (p: Pattern) => void): Pattern {
  const p = good() as Pattern;
  change(p);
  return p;
}

interface BadCase {
  name: string;
  input: unknown;
  path: string;
  message: RegExp;
  options?: PatternValidationOptions;
}

const BAD: BadCase[] = [
  {
    name: 'name with capitals and spaces',
    input: with_((p) => (p.name = 'Pros Cons')),
    path: '/name',
    message: /lowercase letters/,
  },
  {
    name: 'name too long',
    input: with_((p) => (p.name = `a${'b'.repeat(64)}`)),
    path: '/name',
    message: /64/,
  },
  {
    name: 'name starting with a digit',
    input: with_((p) => (p.name = '1x')),
    path: '/name',
    message: /start/,
  },
  {
    name: 'missing title',
    input: with_((p) => delete (p as Partial<Pattern>).title),
    path: '/title',
    message: /title is required/,
  },
  { name: 'empty title', input: with_((p) => (p.title = '')), path: '/title', message: /empty/ },
  {
    name: 'title too long',
    input: with_((p) => (p.title = 'x'.repeat(201))),
    path: '/title',
    message: /200/,
  },
  {
    name: 'description not a string',
    input: with_((p) => ((p as Stage).description = 42)),
    path: '/description',
    message: /description must be a string/,
  },
  {
    name: 'description too long',
    input: with_((p) => (p.description = 'x'.repeat(2001))),
    path: '/description',
    message: /2000/,
  },
  { name: 'no stages', input: with_((p) => (p.stages = [])), path: '/stages', message: /at least one stage/ },
  {
    name: 'stages not a list',
    input: with_((p) => ((p as Stage).stages = { draft: {} })),
    path: '/stages',
    message: /list of stages/,
  },
  {
    name: 'more than the default 10 stages',
    input: with_((p) => {
      p.stages = Array.from({ length: 11 }, (_, i) => ({
        name: `s${i}`,
        mode: 'each',
        template: '{{prompt}}',
      }));
    }),
    path: '/stages',
    message: /at most 10 stages/,
  },
  {
    name: 'more stages than a configured maximum',
    input: good(),
    options: { maxStages: 2 },
    path: '/stages',
    message: /at most 2 stages/,
  },
  {
    name: 'a stage that is not an object',
    input: with_((p) => ((p.stages as unknown[])[1] = 'review')),
    path: '/stages/1',
    message: /must be an object/,
  },
  {
    name: 'duplicate stage names',
    input: withStage(1, (s) => (s.name = 'draft')),
    path: '/stages/1/name',
    message: /already used by stage 0/,
  },
  {
    name: 'stage name that is not an identifier',
    input: withStage(1, (s) => (s.name = 'Peer Review')),
    path: '/stages/1/name',
    message: /stage name must start with a lowercase letter/,
  },
  {
    name: 'unknown mode',
    input: withStage(2, (s) => (s.mode = 'all')),
    path: '/stages/2/mode',
    message: /"each".*"one"/,
  },
  {
    name: 'missing mode',
    input: withStage(2, (s) => delete s.mode),
    path: '/stages/2/mode',
    message: /mode is required/,
  },
  {
    name: 'empty template',
    input: withStage(0, (s) => (s.template = '')),
    path: '/stages/0/template',
    message: /empty/,
  },
  {
    name: 'blank template',
    input: withStage(0, (s) => (s.template = ' \n\t ')),
    path: '/stages/0/template',
    message: /blank/,
  },
  {
    name: 'template longer than the configured maximum',
    input: withStage(2, (s) => (s.template = `{{responses}}${'x'.repeat(100)}`)),
    options: { maxTemplateChars: 100 },
    path: '/stages/2/template',
    message: /at most 100 characters/,
  },
  {
    name: 'template too long by default',
    input: withStage(2, (s) => (s.template = 'x'.repeat(20_001))),
    path: '/stages/2/template',
    message: /at most 20000 characters/,
  },
  {
    name: 'unknown variable',
    input: withStage(0, (s) => (s.template = 'Answer: {{question}}')),
    path: '/stages/0/template',
    message: /unknown variable \{\{question\}\}; use one of \{\{prompt\}\}/,
  },
  {
    name: '{{stages}} without a name',
    input: withStage(2, (s) => (s.template = '{{stages}}')),
    path: '/stages/2/template',
    message: /\{\{stages\.<name>\}\}/,
  },
  {
    name: 'malformed placeholder',
    input: withStage(2, (s) => (s.template = '{{responses}} {{ the answers }}')),
    path: '/stages/2/template',
    message: /not a valid placeholder/,
  },
  {
    name: 'stages.<name> of a stage that does not exist',
    input: withStage(2, (s) => (s.template = '{{stages.drafts}} {{responses}}')),
    path: '/stages/2/template',
    message: /does not exist.*earlier stages: "draft", "review"/,
  },
  {
    name: 'stages.<name> of a later stage',
    input: withStage(1, (s) => (s.template = '{{stages.verdict}}')),
    path: '/stages/1/template',
    message: /a later stage.*earlier stages: "draft"/,
  },
  {
    name: 'stages.<name> of the stage itself',
    input: withStage(1, (s) => (s.template = '{{stages.review}}')),
    path: '/stages/1/template',
    message: /this stage itself/,
  },
  {
    name: 'own_response in the first stage',
    input: withStage(0, (s) => (s.template = '{{prompt}} {{own_response}}')),
    path: '/stages/0/template',
    message: /first stage has no previous stage; use \{\{prompt\}\} here, or move this text to a later stage/,
  },
  {
    name: 'responses in the first stage',
    input: withStage(0, (s) => (s.template = '{{responses}}')),
    path: '/stages/0/template',
    message: /\{\{responses\}\} reads the previous stage's outputs/,
  },
  {
    name: 'anonymize not a boolean',
    input: withStage(1, (s) => (s.anonymize = 'yes')),
    path: '/stages/1/anonymize',
    message: /true or false/,
  },
  {
    name: 'minResponses not an integer',
    input: withStage(1, (s) => (s.minResponses = 1.5)),
    path: '/stages/1/minResponses',
    message: /whole number/,
  },
  {
    name: 'minResponses below 1',
    input: withStage(1, (s) => (s.minResponses = 0)),
    path: '/stages/1/minResponses',
    message: /at least 1/,
  },
  {
    name: 'minResponses on a one stage',
    input: withStage(2, (s) => (s.minResponses = 2)),
    path: '/stages/2/minResponses',
    message: /only to "each" stages/,
  },
  {
    name: 'unknown key on a stage',
    input: withStage(1, (s) => (s.temperature = 0.2)),
    path: '/stages/1/temperature',
    message: /unknown key "temperature"; allowed keys: name, mode, template/,
  },
  {
    name: 'unknown key on the pattern, escaped in the pointer',
    input: with_((p) => (p['models/~main'] = ['a'])),
    path: '/models~1~0main',
    message: /unknown key "models\/~main"/,
  },
  {
    name: 'unknown parse option',
    input: withStage(1, (s) => (s.parse = 'json')),
    path: '/stages/1/parse',
    message: /parse must be "ranking"/,
  },
  {
    name: 'ranking stage without anonymize',
    input: withStage(1, (s) => {
      s.parse = 'ranking';
      delete s.anonymize;
    }),
    path: '/stages/1/parse',
    message: /anonymize: true/,
  },
  {
    name: 'ranking in the first stage',
    input: withStage(0, (s) => {
      s.parse = 'ranking';
      s.anonymize = true;
    }),
    path: '/stages/0/parse',
    message: /cannot be the first stage/,
  },
  { name: 'not an object', input: 'standard', path: '', message: /must be an object/ },
];

describe('validatePatternDefinition', () => {
  it('accepts a good custom pattern and returns a clean copy', () => {
    const result = validatePatternDefinition(good());
    expect(result).toEqual({ ok: true, pattern: good() });
  });

  it.each(BAD.map((c) => [c.name, c] as const))('rejects: %s', (_name, c) => {
    const result = validatePatternDefinition(c.input, c.options);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const at = result.errors.filter((e) => e.path === c.path);
    expect(at, JSON.stringify(result.errors)).not.toHaveLength(0);
    expect(at.map((e) => e.message).join('\n')).toMatch(c.message);
    // Nothing else is wrong with these definitions.
    expect(result.errors.every((e) => e.path === c.path)).toBe(true);
  });

  it('lists every problem, not just the first', () => {
    const result = validatePatternDefinition({
      name: 'Bad Name',
      title: 7,
      stages: [
        { name: 'a', mode: 'each', template: '{{own_response}}', extra: true },
        { name: 'a', mode: 'some', template: '{{stages.c}} {{nope}}', minResponses: 0 },
        { name: 'c', mode: 'one', template: '{{responses}}', minResponses: 1 },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toEqual([
      '/name',
      '/title',
      '/description',
      '/stages/0/extra',
      '/stages/0/template',
      '/stages/1/mode',
      '/stages/1/minResponses',
      '/stages/1/name',
      '/stages/1/template',
      '/stages/1/template',
      '/stages/2/minResponses',
    ]);
  });

  it('checks stage references even when the shape is wrong elsewhere', () => {
    const result = validatePatternDefinition({
      name: 'x',
      title: 'X',
      description: 5,
      stages: [{ name: 'one', mode: 'each', template: '{{stages.two}}' }],
    });
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(['/description', '/stages/0/template']);
  });
});

describe('patternDefinitionSchema', () => {
  it('parses a valid pattern', () => {
    expect(patternDefinitionSchema.parse(good())).toEqual(good());
  });

  it('applies the cross-field rules once the shape is valid', () => {
    const result = patternDefinitionSchema.safeParse(withStage(0, (s) => (s.template = '{{responses}}')));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['stages', 0, 'template']);
  });
});

describe('toJsonPointer', () => {
  it('escapes ~ and / per RFC 6901', () => {
    expect(toJsonPointer([])).toBe('');
    expect(toJsonPointer(['stages', 0, 'a/b~c'])).toBe('/stages/0/a~1b~0c');
  });
});
