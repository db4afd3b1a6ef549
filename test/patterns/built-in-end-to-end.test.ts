/**
 * Every built-in pattern, end to end over real HTTP: on the simulator (shape of
 * the record, stage order, SSE), and on a fake OpenAI-compatible upstream whose
 * answers are distinctive per (model, call), so the prompts each model received
 * can be checked against what the pattern promises (PATTERNS.md, API.md).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { FAST_SIM, json, startApp, type TestApp } from '../support/app.js';
import { BUILT_IN_NAMES, CONTRACT_STAGES, FOUR_STAGE_NAMES } from '../support/contract-patterns.js';
import { useCountedUpstream } from '../support/counted-upstream.js';
import { readStream } from '../support/sse.js';
import { A, MODELS, occurrences } from '../support/upstream-models.js';

const FOUR_STAGE = FOUR_STAGE_NAMES;

/** Stage names and modes, exactly as the API contract lists them. */
const CONTRACT = CONTRACT_STAGES;
const ALL_PATTERNS = BUILT_IN_NAMES;

async function analyse(app: TestApp, body: Record<string, unknown>): Promise<AnalysisRecord> {
  const answer = await fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'wait=30' },
    body: JSON.stringify(body),
  });
  expect(answer.status).toBe(200);
  return json<AnalysisRecord>(answer);
}

function expectShape(record: AnalysisRecord, pattern: string, models: number): void {
  expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
  expect(record.pattern).toBe(pattern);
  const contract = CONTRACT[pattern]!;
  expect(record.stages.map((stage) => stage.name)).toEqual(contract.map(([name]) => name));
  record.stages.forEach((stage, index) => {
    const mode = contract[index]![1];
    expect(stage.status, `${pattern}/${stage.name}`).toBe('succeeded');
    expect(stage.responses, `${pattern}/${stage.name}`).toHaveLength(mode === 'each' ? models : 1);
    for (const response of stage.responses) {
      expect(response.status).toBe('succeeded');
      expect(response.text).toEqual(expect.any(String));
      expect(response.text!.length).toBeGreaterThan(0);
    }
    if (mode === 'each') expect(new Set(stage.responses.map((r) => r.model))).toEqual(new Set(record.models));
    else expect(stage.responses[0]!.model).toBe(record.synthesisModel);
  });
  const last = record.stages.at(-1)!;
  expect(record.result).toMatchObject({
    text: last.responses[0]!.text,
    model: record.synthesisModel,
    fallbackFrom: null,
    degraded: false,
  });
}

describe('every built-in pattern on the simulator', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ providers: [FAST_SIM] });
  });
  afterAll(() => app.close());

  it('GET /v1/patterns lists exactly the built-ins with the contract stages', async () => {
    const list = await json<{ data: Array<{ name: string; stages: Array<{ name: string; mode: string }> }> }>(
      await fetch(`${app.url}/v1/patterns`),
    );
    expect(list.data.map((pattern) => pattern.name)).toEqual(ALL_PATTERNS);
    for (const pattern of list.data) {
      expect(pattern.stages.map((stage) => [stage.name, stage.mode])).toEqual(CONTRACT[pattern.name]);
      const one = await json<{ name: string }>(await fetch(`${app.url}/v1/patterns/${pattern.name}`));
      expect(one.name).toBe(pattern.name);
    }
  });

  it.each(ALL_PATTERNS)('%s runs end to end with the contract stages', async (pattern) => {
    const record = await analyse(app, { prompt: `Simulated question for ${pattern}`, pattern });
    expect(record.models).toEqual(['sim/alpha', 'sim/beta', 'sim/gamma']);
    expect(record.synthesisModel).toBe('sim/alpha');
    expectShape(record, pattern, 3);
  });

  it('the event stream announces the stages in order (council)', async () => {
    const record = await analyse(app, {
      prompt: 'Which sorting algorithm for nearly sorted data?',
      pattern: 'council',
    });
    expect(record.status).toBe('succeeded');
    const stream = await readStream(`${app.url}${record.links.events}`);
    expect(stream.status).toBe(200);
    const started = stream.events.filter((event) => event.event === 'stage.started');
    expect(started.map((event) => [event.data.stage, event.data.index])).toEqual([
      ['answers', 0],
      ['rankings', 1],
      ['final', 2],
    ]);
    expect(started.map((event) => (event.data.models as string[]).length)).toEqual([3, 3, 1]);
    expect(started[2]!.data.models).toEqual(['sim/alpha']);
    const completed = stream.events.filter((event) => event.event === 'stage.completed');
    expect(completed.map((event) => event.data.stage)).toEqual(['answers', 'rankings', 'final']);
    // Each stage starts only after the previous one completed.
    for (let index = 1; index < started.length; index++)
      expect(started[index]!.id).toBeGreaterThan(completed[index - 1]!.id);
    expect(stream.events.at(-1)!.event).toBe('analysis.completed');
  });
});

// ---------------------------------------------------------------------------
// The fake OpenAI-compatible upstream: `ANSWER[<model>#<n>]`, n counting the
// calls each model received, so a model's n-th call is its n-th stage.

describe('every built-in pattern on a fake upstream: what each stage is shown', () => {
  const upstream = useCountedUpstream();
  const { prompt, callsOf } = upstream;
  /** Per model and call number: the text to answer (default `ANSWER[m#n]`), or a latency. */
  let script: (model: string, n: number) => { text?: string; latencyMs?: number } = () => ({});
  beforeEach(() => {
    script = () => ({});
    upstream.reply = (model, n) => {
      const planned = script(model, n);
      return { type: 'answer', text: planned.text ?? A(model, n), latencyMs: planned.latencyMs ?? 0 };
    };
  });

  const run = (pattern: string, userPrompt: string) =>
    analyse(upstream.app, { prompt: userPrompt, pattern, options: { cache: false } });

  /** Own previous answer once, every other model's once (headed by its id), nothing from other rounds. */
  function expectOwnAndOthers(model: string, n: number, userPrompt: string): void {
    const text = prompt(model, n);
    expect(text).toContain(userPrompt);
    expect(occurrences(text, A(model, n - 1)), `${model} #${n}: own answer once`).toBe(1);
    for (const other of MODELS.filter((m) => m !== model)) {
      expect(occurrences(text, A(other, n - 1)), `${model} #${n}: ${other}'s answer`).toBe(1);
      expect(text).toContain(`up/${other}`);
      // "their answers follow yours"
      expect(text.indexOf(A(model, n - 1))).toBeLessThan(text.indexOf(A(other, n - 1)));
    }
    for (let earlier = 1; earlier < n - 1; earlier++) expect(text).not.toContain(`#${earlier}]`);
  }

  it('standard: meta sees every initial answer; synthesis sees initial answers and meta analyses', async () => {
    const userPrompt = 'Should a small team adopt event sourcing? (standard)';
    const record = await run('standard', userPrompt);
    expectShape(record, 'standard', 3);
    expect(record.models).toEqual(['up/m1', 'up/m2', 'up/m3']);
    for (const model of MODELS) {
      expect(prompt(model, 1)).toBe(userPrompt);
      const meta = prompt(model, 2);
      expect(meta).toContain(userPrompt);
      for (const other of MODELS) expect(occurrences(meta, A(other, 1))).toBe(1);
    }
    expect(callsOf('m1')).toBe(3);
    expect(callsOf('m2')).toBe(2);
    expect(callsOf('m3')).toBe(2);
    const synthesis = prompt('m1', 3);
    expect(synthesis).toContain(userPrompt);
    for (const other of MODELS) {
      expect(synthesis).toContain(A(other, 1));
      expect(synthesis).toContain(A(other, 2));
    }
    expect(record.result!.text).toBe(A('m1', 3));
  });

  const SPECIAL_INITIAL: Record<string, RegExp[]> = {
    stakeholder: [/stakeholders/i, /goals/i, /constraints/i, /risks/i, /react/i],
    systems: [/feedback loops/i, /leverage points/i, /components/i, /emergent/i],
    time: [/0\s*[–-]\s*1 year/, /1\s*[–-]\s*5 years/, /5\s*[–-]\s*20\+? years/],
    innovation: [/analog/i, /at least three/i, /similarit/i, /limit/i],
  };

  it.each(FOUR_STAGE)(
    '%s: meta sees own + others, hyper own meta + others, ultra every hyper answer',
    async (pattern) => {
      const userPrompt = `How should a city prepare for heat waves? (${pattern})`;
      const record = await run(pattern, userPrompt);
      expectShape(record, pattern, 3);

      for (const model of MODELS) {
        const initial = prompt(model, 1);
        const special = SPECIAL_INITIAL[pattern];
        if (special) {
          expect(initial).toContain(userPrompt);
          for (const words of special) expect(initial, `${pattern} initial`).toMatch(words);
        } else {
          expect(initial).toBe(userPrompt);
        }
        expectOwnAndOthers(model, 2, userPrompt); // meta
        expectOwnAndOthers(model, 3, userPrompt); // hyper
      }

      // ultra: the synthesis model only, with every hyper answer and nothing earlier.
      expect([callsOf('m1'), callsOf('m2'), callsOf('m3')]).toEqual([4, 3, 3]);
      const ultra = prompt('m1', 4);
      expect(ultra).toContain(userPrompt);
      for (const model of MODELS) expect(occurrences(ultra, A(model, 3))).toBe(1);
      expect(ultra).not.toMatch(/#[12]\]/);
      expect(record.result).toMatchObject({ text: A('m1', 4), model: 'up/m1', degraded: false });
      expect(record.stages.map((stage) => stage.responses.map((r) => r.text).sort())).toEqual([
        MODELS.map((m) => A(m, 1)),
        MODELS.map((m) => A(m, 2)),
        MODELS.map((m) => A(m, 3)),
        [A('m1', 4)],
      ]);
    },
  );

  it('council: reviewers see every answer as Response A/B/C and no model id; the chairman sees answers and reviews', async () => {
    const userPrompt = 'Is Rust a good first language? (council)';
    const record = await run('council', userPrompt);
    expectShape(record, 'council', 3);

    const labelOf = new Map<string, string>();
    for (const model of MODELS) {
      expect(prompt(model, 1)).toBe(userPrompt);
      const review = prompt(model, 2);
      expect(review).toContain(userPrompt);
      expect(review).toContain('FINAL RANKING');
      for (const other of MODELS) {
        expect(occurrences(review, A(other, 1)), `${model} reviews ${other}`).toBe(1);
        expect(review).not.toContain(`up/${other}`);
      }
      for (const label of ['Response A', 'Response B', 'Response C']) expect(review).toContain(label);
      expect(review).not.toContain('Response D');
      // Which answer sits under which label: the same for every reviewer.
      for (const match of review.matchAll(/Response ([A-Z])\W*\n+\s*ANSWER\[(m\d)#1\]/g)) {
        const known = labelOf.get(match[1]!);
        if (known) expect(match[2], `label ${match[1]} for ${model}`).toBe(known);
        else labelOf.set(match[1]!, match[2]!);
      }
    }
    expect([...labelOf.keys()].sort()).toEqual(['A', 'B', 'C']);
    expect(new Set(labelOf.values())).toEqual(new Set(MODELS));

    expect([callsOf('m1'), callsOf('m2'), callsOf('m3')]).toEqual([3, 2, 2]);
    const final = prompt('m1', 3);
    expect(final).toContain(userPrompt);
    for (const model of MODELS) {
      expect(final).toContain(A(model, 1));
      expect(final).toContain(A(model, 2));
    }
    expect(record.result!.text).toBe(A('m1', 3));
    // The fake's reviews contain no ranking: all three are unparsed.
    expect(record.result!.ranking).toEqual([]);
    expect(record.result!.unparsedRankings).toBe(3);
  });

  it('moa: layer2 sees all of layer1; the aggregator is told the responses may be biased or wrong', async () => {
    const userPrompt = 'Explain CRDTs to a backend engineer. (moa)';
    const record = await run('moa', userPrompt);
    expectShape(record, 'moa', 3);
    for (const model of MODELS) {
      expect(prompt(model, 1)).toBe(userPrompt);
      const layer2 = prompt(model, 2);
      expect(layer2).toContain(userPrompt);
      for (const other of MODELS) expect(occurrences(layer2, A(other, 1))).toBe(1);
    }
    expect([callsOf('m1'), callsOf('m2'), callsOf('m3')]).toEqual([3, 2, 2]);
    const aggregate = prompt('m1', 3);
    expect(aggregate).toContain(userPrompt);
    for (const model of MODELS) expect(occurrences(aggregate, A(model, 2))).toBe(1);
    expect(aggregate).not.toContain('#1]');
    expect(aggregate).toMatch(/biased/i);
    expect(aggregate).toMatch(/wrong|incorrect/i);
    expect(aggregate).toMatch(/critical/i);
    expect(record.result!.text).toBe(A('m1', 3));
  });

  describe('council ranking end to end', () => {
    const REVIEW_PREFIX = `### Response A
Accurate and well organised, but it skips the borrow checker's learning curve.

### Response B
The most complete answer: correct, concrete and honest about the trade-offs.

### Response C
Short and partly wrong about garbage collection.

`;
    const REVIEWS: Record<string, string> = {
      m1: `${REVIEW_PREFIX}FINAL RANKING:\n1. Response B\n2. Response A\n3. Response C`,
      m2: `${REVIEW_PREFIX.replace('The most complete', 'Thorough but long-winded')}FINAL RANKING:\n1. Response A\n2. Response C\n3. Response B`,
      m3: 'All three answers have merit and I would not want to rank them against each other.',
    };

    // Answers arrive in the reverse of model order (m3 first), so any mix-up of orders shows.
    const slowFirst = (model: string, n: number) =>
      n === 1
        ? { latencyMs: { m1: 120, m2: 60, m3: 0 }[model]! }
        : n === 2
          ? { text: REVIEWS[model]! }
          : { text: 'The council says: yes, with a good mentor.' };

    /** What each label stood for, as the reviewers were shown it. */
    const shownLabels = (): Map<string, string> => {
      const shown = new Map<string, string>();
      for (const match of prompt('m1', 2).matchAll(/Response ([A-Z])\W*\n+\s*ANSWER\[(m\d)#1\]/g))
        shown.set(`Response ${match[1]}`, `up/${match[2]}`);
      expect(shown.size).toBe(3);
      return shown;
    };

    it('maps labels back to models, averages the ranks and counts the unparseable review', async () => {
      script = slowFirst;
      const record = await run('council', 'Is Rust a good first language? (ranking)');
      expectShape(record, 'council', 3);
      const shown = shownLabels();

      // A = 1.5 (2nd, 1st), B = 2 (1st, 3rd), C = 2.5 (3rd, 2nd); the third review is unparseable.
      expect(record.result!.ranking).toEqual([
        { model: shown.get('Response A'), averageRank: 1.5, votes: 2 },
        { model: shown.get('Response B'), averageRank: 2, votes: 2 },
        { model: shown.get('Response C'), averageRank: 2.5, votes: 2 },
      ]);
      expect(record.result!.unparsedRankings).toBe(1);
      expect(record.result!.text).toBe('The council says: yes, with a good mentor.');
    });

    it('a council resumed after its rankings stage (its worker lost mid-synthesis) still has its ranking', async () => {
      script = slowFirst;
      const record = await run('council', 'Is Rust a good first language? (resumed)');
      expect(record.result!.unparsedRankings).toBe(1);
      // The state a worker leaves when it dies in the last stage: the first two
      // stages stored as succeeded, the synthesis running, no result yet.
      const { store, executor } = upstream.app.app.chorus;
      const stored = (await store.get(record.id))!;
      const lost = structuredClone(stored.record);
      lost.id = `${record.id}x`;
      lost.status = 'running';
      lost.result = null;
      lost.completedAt = null;
      lost.stages[2] = { ...lost.stages[2]!, status: 'running', completedAt: null, responses: [] };
      await store.insert(lost, { ...stored.job, id: lost.id });
      const before = callsOf('m1');

      await executor.run(lost.id, new AbortController().signal);

      const resumed = await json<AnalysisRecord>(await fetch(`${upstream.app.url}/v1/analyses/${lost.id}`));
      expect(resumed.status).toBe('succeeded');
      expect(callsOf('m1')).toBe(before + 1); // only the synthesis ran again
      expect(resumed.result!.ranking).toEqual(record.result!.ranking);
      expect(resumed.result!.unparsedRankings).toBe(1);
    });

    it('labels Response A, B, C in the order the record lists the answers stage, whatever order they finish in', async () => {
      script = slowFirst;
      const record = await run('council', 'Is Rust a good first language? (label order)');
      expect(record.status).toBe('succeeded');
      const shown = shownLabels();
      // A client reading the record must be able to tell which answer was Response A:
      // the first answer of the answers stage, B the second, and so on.
      const answersOrder = record.stages[0]!.responses.map((response) => response.model);
      expect(['Response A', 'Response B', 'Response C'].map((label) => shown.get(label))).toEqual(
        answersOrder,
      );
      expect(record.result!.ranking!.map((entry) => entry.model)).toEqual([
        answersOrder[0],
        answersOrder[1],
        answersOrder[2],
      ]);
    });
  });
});
