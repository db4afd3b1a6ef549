/**
 * `council` — after the published "LLM council" design: every model answers;
 * every model reviews all the answers under anonymous labels and ends with a
 * `FINAL RANKING:` list; the chairman (the synthesis model) writes the final
 * answer from the answers and the reviews.
 *
 * The runner labels the `answers` outputs `Response A`, `Response B`, … in the
 * order it lists them, parses each review with `parseRanking` (the `rankings`
 * stage has `parse: 'ranking'`) and puts the aggregate into `result.ranking`.
 */

import type { PatternDefinition } from './types.js';

export const council: PatternDefinition = {
  name: 'council',
  title: 'LLM Council',
  description:
    'Every model answers; every model then reviews all the answers anonymously and ranks them; a chairman model writes the final answer from the answers and the reviews. The aggregate ranking is reported in the result.',
  stages: [
    {
      name: 'answers',
      mode: 'each',
      template: '{{prompt}}',
    },
    {
      name: 'rankings',
      mode: 'each',
      anonymize: true,
      parse: 'ranking',
      template: `You are reviewing answers that different models gave to the question below. The answers are anonymous: each is labelled Response A, Response B, and so on. One of them may be your own; judge every answer on its merits alone and do not try to guess who wrote it.

## Question
{{prompt}}

## Answers
{{responses}}

## Your task
1. Evaluate each response in turn, under a heading with its label (for example \`### Response A\`). Consider accuracy, completeness, quality of reasoning, clarity and usefulness to the person who asked. Name concrete strengths and concrete weaknesses; point out factual errors explicitly.
2. Then rank all the responses from best to worst.

End your reply with the ranking in exactly this format:

FINAL RANKING:
1. Response C
2. Response A
3. Response B

Format rules:
- The line \`FINAL RANKING:\` stands on its own line, in capitals, with the colon.
- Below it, one numbered line per response, best first, containing only its label.
- Rank every response shown above exactly once, using the labels as shown (the labels in the example are illustrative only).
- Write nothing after the ranking.`,
    },
    {
      name: 'final',
      mode: 'one',
      template: `You are the chair of a council of models. Every member answered the question below; then every member reviewed all the answers anonymously and ranked them. Write the council's final answer.

## Question
{{prompt}}

## The members' answers
{{stages.answers}}

## The members' reviews
The reviewers saw the answers above labelled Response A, Response B, … in the order they are listed here (the first answer is Response A, the second Response B, and so on).

{{responses}}

## Your task
Write the single best answer to the question. Use the reviews to decide which answers and points to trust: build on what the reviewers found strong, correct the errors they found, and fill the gaps they pointed out. Where the reviewers disagree, use your own judgement and say so where it matters.

Use these headings:
- **Answer** — the complete, final answer to the question; it must stand on its own.
- **How the council saw it** — a short summary of where the answers and reviews agreed and disagreed, and which answers the reviewers rated highest.

Write in Markdown. Be direct and specific; skip filler.`,
    },
  ],
};
