import { describe, expect, it } from 'vitest';
import { BUILT_IN_PATTERNS, getBuiltInPattern } from '../../src/orchestration/patterns/index.js';
import type { PatternDefinition, StageDefinition } from '../../src/orchestration/patterns/types.js';
import { validatePatternDefinition } from '../../src/orchestration/patterns/validate.js';
import { renderTemplate, templateVariables } from '../../src/orchestration/template.js';
import { CONTRACT_STAGES, FOUR_STAGE_NAMES } from '../support/contract-patterns.js';

const FOUR_STAGE_PATTERNS = FOUR_STAGE_NAMES.map((name) => getBuiltInPattern(name)!);
const council = getBuiltInPattern('council')!;
const moa = getBuiltInPattern('moa')!;

/** Stage names and modes from the API contract. */
const CONTRACT = CONTRACT_STAGES;

const TITLES: Record<string, string> = {
  gut: 'Gut Analysis',
  confidence: 'Confidence Analysis',
  critique: 'Critique Analysis',
  fact_check: 'Fact Check Analysis',
  perspective: 'Perspective Analysis',
  scenario: 'Scenario Analysis',
  stakeholder: 'Stakeholder Vision',
  systems: 'Systems Mapper',
  time: 'Time Horizon',
  innovation: 'Innovation Bridge',
};

function stage(pattern: PatternDefinition, name: string): StageDefinition {
  const found = pattern.stages.find((s) => s.name === name);
  if (!found) throw new Error(`${pattern.name} has no stage ${name}`);
  return found;
}

const vars = (s: StageDefinition) => templateVariables(s.template);

describe('built-in patterns', () => {
  it('are listed in catalog order, once each', () => {
    expect(BUILT_IN_PATTERNS.map((p) => p.name)).toEqual([
      'standard',
      ...FOUR_STAGE_NAMES,
      'council',
      'moa',
      'direct',
    ]);
    expect(FOUR_STAGE_PATTERNS.map((p) => p.name)).toEqual(FOUR_STAGE_NAMES);
    expect(getBuiltInPattern('council')).toBe(council);
    expect(getBuiltInPattern('nope')).toBeUndefined();
  });

  it('are frozen', () => {
    const p = BUILT_IN_PATTERNS[1]!;
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.stages[0])).toBe(true);
  });

  describe.each(BUILT_IN_PATTERNS.map((p) => [p.name, p] as const))('%s', (name, pattern) => {
    it('has exactly the contract stage names and modes', () => {
      expect(pattern.stages.map((s) => [s.name, s.mode])).toEqual(CONTRACT[name]);
    });

    it('is valid per validatePatternDefinition and round-trips unchanged', () => {
      const result = validatePatternDefinition(pattern);
      expect(result.ok ? [] : result.errors).toEqual([]);
      if (result.ok) expect(result.pattern).toEqual(pattern);
    });

    it('has a title and a description', () => {
      expect(pattern.title.length).toBeGreaterThan(0);
      expect(pattern.description.length).toBeGreaterThan(20);
    });

    it('renders every template completely, and never re-expands values', () => {
      const values = {
        prompt: 'PROMPT {{responses}}',
        own_response: 'OWN',
        other_responses: 'OTHERS',
        responses: 'ALL',
        ...Object.fromEntries(pattern.stages.map((s) => [`stages.${s.name}`, `STAGE_${s.name}`])),
      };
      for (const s of pattern.stages) {
        const out = renderTemplate(s.template, values);
        expect(out.replace('PROMPT {{responses}}', '')).not.toMatch(/\{\{/);
        expect(out).toContain('PROMPT {{responses}}');
      }
    });

    it('has a first stage that answers the prompt', () => {
      expect(vars(pattern.stages[0]!)).toContain('prompt');
    });

    it('ends with a one-model stage that reads every output of the previous stage (direct: the prompt alone)', () => {
      const last = pattern.stages[pattern.stages.length - 1]!;
      expect(last.mode).toBe('one');
      if (name === 'direct') expect(last.template).toBe('{{prompt}}');
      else expect(vars(last)).toEqual(expect.arrayContaining(['prompt', 'responses']));
    });
  });
});

describe.each(FOUR_STAGE_PATTERNS.map((p) => [p.name, p] as const))(
  'four-stage pattern %s',
  (name, pattern) => {
    it('has the title from the catalog', () => {
      expect(pattern.title).toBe(TITLES[name]);
    });

    it('meta shows its own initial answer and the others', () => {
      expect(vars(stage(pattern, 'meta'))).toEqual(['prompt', 'own_response', 'other_responses']);
    });

    it('hyper shows its own meta answer and the others', () => {
      expect(vars(stage(pattern, 'hyper'))).toEqual(['prompt', 'own_response', 'other_responses']);
    });

    it('ultra gets the prompt and every hyper answer', () => {
      expect(vars(stage(pattern, 'ultra'))).toEqual(['prompt', 'responses']);
    });

    it('has stage instructions of its own', () => {
      for (const s of ['meta', 'hyper', 'ultra']) expect(stage(pattern, s).template).toMatch(/## Your task/);
    });
  },
);

describe('four-stage initial instructions', () => {
  const initial = (name: string) => stage(getBuiltInPattern(name)!, 'initial').template;

  it.each(['gut', 'confidence', 'critique', 'fact_check', 'perspective', 'scenario'])(
    '%s just answers the prompt',
    (name) => {
      expect(initial(name)).toBe('{{prompt}}');
    },
  );

  it('stakeholder lists stakeholders with goals, constraints, risks and reactions', () => {
    expect(initial('stakeholder')).toMatch(/goals.*constraints.*risks.*react/is);
  });

  it('systems names components, feedback loops, leverage points and emergent effects', () => {
    expect(initial('systems')).toMatch(/Components.*Feedback loops.*Leverage points.*Emergent effects/s);
  });

  it('time answers for the three horizons', () => {
    expect(initial('time')).toMatch(/0–1 year.*1–5 years.*5–20\+ years/s);
  });

  it('innovation draws at least three analogies with similarity, insight and limits', () => {
    expect(initial('innovation')).toMatch(/at least three analogies/);
    expect(initial('innovation')).toMatch(/Similarity.*Insight.*Limits/s);
  });
});

describe('pattern-specific stage content', () => {
  it('confidence ultra scores points by how many models hold them', () => {
    const t = stage(getBuiltInPattern('confidence')!, 'ultra').template;
    for (const level of ['Very high', 'High', 'Medium', 'Low']) expect(t).toContain(`**${level}**`);
    expect(t).toMatch(/distribution/i);
  });

  it('gut meta does not assume the others are correct', () => {
    expect(stage(getBuiltInPattern('gut')!, 'meta').template).toMatch(/not assume/i);
  });

  it('stakeholder hyper builds a power/interest matrix', () => {
    expect(stage(getBuiltInPattern('stakeholder')!, 'hyper').template).toMatch(/power\/interest matrix/i);
  });
});

describe('council', () => {
  const rankings = stage(council, 'rankings');

  it('anonymizes the rankings stage and marks it for the ranking parser', () => {
    expect(rankings.anonymize).toBe(true);
    expect(rankings.parse).toBe('ranking');
    expect(council.stages.filter((s) => s.parse === 'ranking')).toHaveLength(1);
  });

  it('shows every reviewer all the answers and asks for a FINAL RANKING list', () => {
    expect(vars(rankings)).toEqual(['prompt', 'responses']);
    expect(rankings.template).toContain('FINAL RANKING:');
    expect(rankings.template).toMatch(/FINAL RANKING:\n1\. Response [A-Z]\n2\. Response [A-Z]/);
  });

  it('gives the chairman the prompt, the answers and the reviews', () => {
    expect(vars(stage(council, 'final'))).toEqual(['prompt', 'stages.answers', 'responses']);
  });
});

describe('moa', () => {
  it('layer2 sees all of layer1', () => {
    expect(vars(stage(moa, 'layer2'))).toEqual(['prompt', 'responses']);
  });

  it('tells the aggregator that responses may be biased or wrong', () => {
    const t = stage(moa, 'aggregate').template;
    expect(t).toMatch(/biased/);
    expect(t).toMatch(/wrong/);
    expect(t).toMatch(/critically/);
  });
});
