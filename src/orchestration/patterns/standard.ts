import type { PatternDefinition } from './types.js';

export const standard: PatternDefinition = {
  name: 'standard',
  title: 'Standard Analysis',
  description:
    'Every model answers; every model then reads all the answers and draws out insights, agreement and disagreement; one model writes the synthesis.',
  stages: [
    {
      name: 'initial',
      mode: 'each',
      template: '{{prompt}}',
    },
    {
      name: 'meta',
      mode: 'each',
      template: `Several models answered the question below independently. Read every answer, then write a meta-analysis.

## Question
{{prompt}}

## Answers
{{responses}}

## Your task
Structure your meta-analysis under these headings:
1. **Key technical insights** — the most important facts, mechanisms and details across the answers.
2. **Strategic implications** — what the answers mean for decisions and priorities.
3. **Agreement** — points most answers share.
4. **Disagreement** — where the answers differ, and which position is better supported and why.
5. **Unique contributions** — what only one answer brings, and whether it holds up.

Be specific and cite which answer a point comes from.`,
    },
    {
      name: 'synthesis',
      mode: 'one',
      template: `You are writing the final answer to the question below, drawing on several models' answers and their meta-analyses.

## Question
{{prompt}}

## Initial answers
{{stages.initial}}

## Meta-analyses
{{responses}}

## Your task
Write one comprehensive synthesis that stands on its own as the best answer to the question. Cover:
- **Technical details** — the substance, correct and precise.
- **Strategic insights** — what matters most and why.
- **Consensus points** — where the models agree, stated with confidence.
- **Key recommendations** — concrete, prioritized next steps.

Resolve disagreements explicitly rather than averaging them, and say plainly where uncertainty remains.`,
    },
  ],
};
