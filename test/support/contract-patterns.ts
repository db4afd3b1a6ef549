/** The built-in patterns as API.md "Patterns" names them: names, order, stages and modes. */

export const FOUR_STAGE_NAMES = [
  'gut',
  'confidence',
  'critique',
  'fact_check',
  'perspective',
  'scenario',
  'stakeholder',
  'systems',
  'time',
  'innovation',
] as const;

/** Every built-in pattern, in the order `GET /v1/patterns` lists them. */
export const BUILT_IN_NAMES = ['standard', ...FOUR_STAGE_NAMES, 'council', 'moa', 'direct'] as const;

/** Stage names and modes of each built-in pattern. */
export const CONTRACT_STAGES: Record<string, Array<[string, 'each' | 'one']>> = {
  standard: [
    ['initial', 'each'],
    ['meta', 'each'],
    ['synthesis', 'one'],
  ],
  ...Object.fromEntries(
    FOUR_STAGE_NAMES.map((name) => [
      name,
      [
        ['initial', 'each'],
        ['meta', 'each'],
        ['hyper', 'each'],
        ['ultra', 'one'],
      ],
    ]),
  ),
  council: [
    ['answers', 'each'],
    ['rankings', 'each'],
    ['final', 'one'],
  ],
  moa: [
    ['layer1', 'each'],
    ['layer2', 'each'],
    ['aggregate', 'one'],
  ],
  direct: [['answer', 'one']],
};
