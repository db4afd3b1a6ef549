import { describe, expect, it } from 'vitest';
import {
  aggregateRankings,
  parseRanking,
  responseLabel,
  summarizeRankings,
} from '../../src/orchestration/ranking.js';

const LABELS = ['Response A', 'Response B', 'Response C'];
const A = 'Response A';
const B = 'Response B';
const C = 'Response C';

interface Case {
  name: string;
  text: string;
  order: string[] | null;
  /** Substrings that the problems must contain, in order (exact count). */
  problems?: string[];
  labels?: string[];
}

const CASES: Case[] = [
  {
    name: 'the requested format',
    text: `### Response A
Accurate but thin.

### Response B
Wrong about the dates.

### Response C
Thorough and correct.

FINAL RANKING:
1. Response C
2. Response A
3. Response B`,
    order: [C, A, B],
  },
  {
    name: 'bold marker and bold labels',
    text: `Response A is solid. Response B misses the point.

**FINAL RANKING:**
1. **Response A**
2. **Response C**
3. **Response B**`,
    order: [A, C, B],
  },
  {
    name: 'markdown heading marker without colon and `1)` items',
    text: `## Evaluation
All three are reasonable.

## Final Ranking
1) Response B
2) Response A
3) Response C`,
    order: [B, A, C],
  },
  {
    name: 'reasons after each label, naming other labels',
    text: `FINAL RANKING:
1. Response A - best, because it corrects the error in Response C
2. Response C: good structure, but see above
3. Response B (weakest; repeats Response A without evidence)`,
    order: [A, C, B],
  },
  {
    name: 'extra prose after the list',
    text: `FINAL RANKING:
1. Response B
2. Response C
3. Response A

Overall, Response A was the weakest: it missed the main question. Response C came close to Response B.`,
    order: [B, C, A],
  },
  {
    name: 'parenthesised and bracketed labels',
    text: `FINAL RANKING:
1. (Response C)
2. [Response B]
3. "Response A"`,
    order: [C, B, A],
  },
  {
    name: 'lowercase marker and labels',
    text: `final ranking:
1. response c
2. response b
3. response a`,
    order: [C, B, A],
  },
  {
    name: 'a missing entry',
    text: `FINAL RANKING:
1. Response C
2. Response A`,
    order: [C, A],
    problems: ['missing from the ranking: Response B'],
  },
  {
    name: 'a duplicate entry',
    text: `FINAL RANKING:
1. Response A
2. Response A
3. Response B
4. Response C`,
    order: [A, B, C],
    problems: ['"Response A" is ranked more than once'],
  },
  {
    name: 'an unknown label',
    text: `FINAL RANKING:
1. Response D
2. Response B
3. Response A
4. Response C`,
    order: [B, A, C],
    problems: ['unknown label "Response D"'],
  },
  {
    name: 'no marker at all',
    text: `Response C is the best, Response A second and Response B last.
1. Response C
2. Response A
3. Response B`,
    order: null,
    problems: ['no FINAL RANKING section'],
  },
  {
    name: 'two FINAL RANKING sections (a draft, then the final one)',
    text: `Draft — FINAL RANKING:
1. Response A
2. Response B
3. Response C

On reflection Response C's numbers are right, so:

FINAL RANKING:
1. Response C
2. Response A
3. Response B`,
    order: [C, A, B],
    problems: ['2 FINAL RANKING sections; read the last one'],
  },
  {
    name: 'labels mentioned earlier in the prose',
    text: `Response A is clearly the most complete, although Response B is more concise.
My FINAL RANKING (best first) follows after the reviews.

Response A: strong. Response B: fine. Response C: poor.

FINAL RANKING:
1. Response B
2. Response A
3. Response C`,
    // "My FINAL RANKING (best first) follows" is prose (no colon, mid-line), not a marker.
    order: [B, A, C],
  },
  {
    name: 'a dash list',
    text: `FINAL RANKING:
- Response B
- Response C
- Response A`,
    order: [B, C, A],
  },
  {
    name: 'nested detail under each item',
    text: `FINAL RANKING:
1. Response C
   - stronger than Response A on evidence
2. Response A
   - better than Response B
3. Response B`,
    order: [C, A, B],
  },
  {
    name: 'the ranking inline after the marker',
    text: 'Good answers overall.\n\nFINAL RANKING: Response B > Response C > Response A',
    order: [B, C, A],
  },
  {
    name: 'the first item on the marker line',
    text: 'FINAL RANKING: 1. Response A\n2. Response C\n3. Response B',
    order: [A, C, B],
  },
  {
    name: 'bare letters',
    text: `FINAL RANKING:
1. C
2. **A** - clear and correct
3. B`,
    order: [C, A, B],
  },
  {
    name: 'an article is not a bare label',
    text: `FINAL RANKING:
1. Response B
2. A weaker answer overall
3. Response C`,
    order: [B, C],
    problems: ['names no known label', 'missing from the ranking: Response A'],
  },
  {
    name: 'unnumbered lines that are just labels',
    text: `FINAL RANKING:
Response C
Response A
Response B

Response B was weak overall.`,
    order: [C, A, B],
  },
  {
    name: 'a preamble line between the marker and the list, bold numbers, plural marker',
    text: `**Final Rankings:**
From best to worst:

**1.** Response A
**2.** Response B
**3.** Response C`,
    order: [A, B, C],
  },
  {
    name: 'CRLF line endings and a blockquote marker',
    text: '> **FINAL RANKING:**\r\n1. Response B\r\n2. Response A\r\n3. Response C\r\n',
    order: [B, A, C],
  },
  {
    name: 'a marker followed by nothing rankable',
    text: 'I cannot rank these.\n\nFINAL RANKING:\nN/A — all three are equally wrong.',
    order: null,
    problems: ['the FINAL RANKING section lists no known label'],
  },
  {
    name: 'the last marker is empty, an earlier one is used',
    text: `FINAL RANKING:
1. Response A
2. Response C
3. Response B

FINAL RANKING:
(see above)`,
    order: [A, C, B],
    problems: ['the last lists no known label; read section 1'],
  },
  {
    name: '"final ranking" inside a sentence is not a marker',
    text: `FINAL RANKING:
1. Response C
2. Response B
3. Response A

This final ranking reflects accuracy first.`,
    order: [C, B, A],
  },
  {
    name: 'longer labels do not match shorter ones',
    labels: ['Response A', 'Response AB'],
    text: 'FINAL RANKING:\n1. Response AB\n2. Response A',
    order: ['Response AB', 'Response A'],
  },
];

describe('parseRanking', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = parseRanking(c.text, c.labels ?? LABELS);
    expect(result.order).toEqual(c.order);
    const expected = c.problems ?? [];
    expect(result.problems).toHaveLength(expected.length);
    expected.forEach((fragment, i) => {
      expect(result.problems[i]).toContain(fragment);
    });
  });

  it('has no labels to rank with an empty label list', () => {
    expect(parseRanking('FINAL RANKING:\n1. Response A', [])).toEqual({
      order: null,
      problems: ['there are no labels to rank'],
    });
  });

  it('returns labels exactly as given', () => {
    expect(parseRanking('FINAL RANKING:\n1. RESPONSE   b', ['Response B'])).toEqual({
      order: ['Response B'],
      problems: [],
    });
  });
});

describe('responseLabel', () => {
  it('labels A to Z, then AA, AB, …', () => {
    expect([0, 1, 25, 26, 27, 51, 52].map(responseLabel)).toEqual([
      'Response A',
      'Response B',
      'Response Z',
      'Response AA',
      'Response AB',
      'Response AZ',
      'Response BA',
    ]);
  });
});

describe('aggregateRankings', () => {
  const map = new Map([
    [A, 'openai/gpt-4.1-mini'],
    [B, 'anthropic/claude-sonnet-4-5'],
    [C, 'sim/alpha'],
  ]);

  it('averages positions, best first', () => {
    const ranking = aggregateRankings(
      [{ order: [C, A, B] }, { order: [C, B, A] }, { order: [A, C, B] }],
      map,
    );
    expect(ranking).toEqual([
      { model: 'sim/alpha', averageRank: 1.333, votes: 3 },
      { model: 'openai/gpt-4.1-mini', averageRank: 2, votes: 3 },
      { model: 'anthropic/claude-sonnet-4-5', averageRank: 2.667, votes: 3 },
    ]);
  });

  it('counts votes only from reviews that ranked the model, and breaks ties by votes then id', () => {
    const ranking = aggregateRankings([{ order: [A, B] }, { order: [B, A, C] }, { order: [C] }], map);
    // A: 1,2 → 1.5 (2 votes); B: 2,1 → 1.5 (2 votes); C: 3,1 → 2 (2 votes)
    expect(ranking.map((r) => [r.model, r.averageRank, r.votes])).toEqual([
      ['anthropic/claude-sonnet-4-5', 1.5, 2],
      ['openai/gpt-4.1-mini', 1.5, 2],
      ['sim/alpha', 2, 2],
    ]);

    const byVotes = aggregateRankings([{ order: [A] }, { order: [B] }, { order: [B] }], map);
    expect(byVotes.map((r) => r.model)).toEqual(['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1-mini']);
  });

  it('skips unknown labels and repeats without letting them take a position', () => {
    const ranking = aggregateRankings([{ order: ['Response Q', B, B, A] }], map);
    expect(ranking).toEqual([
      { model: 'anthropic/claude-sonnet-4-5', averageRank: 1, votes: 1 },
      { model: 'openai/gpt-4.1-mini', averageRank: 2, votes: 1 },
    ]);
  });

  it('is empty without reviews', () => {
    expect(aggregateRankings([], map)).toEqual([]);
  });
});

describe('summarizeRankings', () => {
  it('parses every review, aggregates the parsed ones and counts the rest', () => {
    const map = new Map([
      [A, 'm/one'],
      [B, 'm/two'],
    ]);
    const summary = summarizeRankings(
      [
        { model: 'm/one', text: 'FINAL RANKING:\n1. Response B\n2. Response A' },
        { model: 'm/two', text: 'FINAL RANKING:\n1. Response B\n2. Response A' },
        { model: 'm/three', text: 'I think B is better.' },
      ],
      map,
    );
    expect(summary.ranking).toEqual([
      { model: 'm/two', averageRank: 1, votes: 2 },
      { model: 'm/one', averageRank: 2, votes: 2 },
    ]);
    expect(summary.unparsedRankings).toBe(1);
    expect(summary.reviews[2]).toEqual({
      model: 'm/three',
      order: null,
      problems: ['no FINAL RANKING section'],
    });
  });
});
