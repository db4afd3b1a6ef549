/**
 * The shape of a pattern definition as a zod schema, with its limits: field
 * types, name formats, lengths and counts. The rules that relate one field to
 * another are in `pattern-rules.ts`.
 */

import { z } from 'zod';
import { modelIdSchema, modelListSchema, runOptionsSchema } from '../run-options-schema.js';

export const PATTERN_NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;
export const STAGE_NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;
export const PATTERN_LIMITS = {
  maxStages: 10,
  maxTemplateChars: 20_000,
  maxTitleChars: 200,
  maxDescriptionChars: 2_000,
  /** A request selects at most 12 models, so a larger quorum could never be met. */
  maxMinResponses: 12,
  maxErrors: 20,
} as const;

export const PATTERN_KEYS = ['name', 'title', 'description', 'stages', 'defaults'] as const;
export const DEFAULTS_KEYS = ['models', 'synthesisModel', 'options'] as const;
export const STAGE_KEYS = ['name', 'mode', 'template', 'anonymize', 'minResponses', 'parse'] as const;

/** A zod error map: "x is required" when the key is absent, "x must be …" otherwise. */
const required =
  (field: string, expected: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`;

/** Builds the zod schema of a pattern's shape with the given limits (no cross-field rules). */
export function shapeSchema(maxStages: number, maxTemplateChars: number) {
  const stage = z.strictObject(
    {
      name: z
        .string({ error: required('stage name', 'a string') })
        .regex(STAGE_NAME_RE, {
          error:
            'stage name must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 64 characters)',
        })
        .describe('Stage name, unique within the pattern; `{{stages.<name>}}` refers to it.'),
      mode: z
        .enum(['each', 'one'], {
          error: required('mode', '"each" (every selected model) or "one" (the synthesis model)'),
        })
        .describe('`each` runs every selected model; `one` runs the synthesis model.'),
      template: z
        .string({ error: required('template', 'a string') })
        .min(1, { error: 'template must not be empty' })
        .max(maxTemplateChars, { error: `template must be at most ${maxTemplateChars} characters` })
        .refine((t) => t.length === 0 || t.trim().length > 0, { error: 'template must not be blank' })
        .describe(
          'Prompt template. Variables: {{prompt}}, {{own_response}}, {{other_responses}}, {{responses}}, {{stages.<name>}}.',
        ),
      anonymize: z
        .boolean({ error: required('anonymize', 'true or false') })
        .optional()
        .describe("Label other models' outputs `Response A`, `Response B`, … instead of by model id."),
      minResponses: z
        .number({ error: required('minResponses', 'a number') })
        .int({ error: 'minResponses must be a whole number' })
        .min(1, { error: 'minResponses must be at least 1' })
        .max(PATTERN_LIMITS.maxMinResponses, {
          error: `minResponses must be at most ${PATTERN_LIMITS.maxMinResponses} (the most models a request can select)`,
        })
        .optional()
        .describe('Quorum for an `each` stage; overrides the request option `minResponses`.'),
      parse: z
        .literal('ranking', { error: 'parse must be "ranking" (the only post-processing there is)' })
        .optional()
        .describe(
          'Parse each output as a `FINAL RANKING:` list of `Response X` labels (needs `anonymize: true`).',
        ),
    },
    { error: 'a stage must be an object with name, mode and template' },
  );

  return z.strictObject(
    {
      name: z
        .string({ error: required('name', 'a string') })
        .regex(PATTERN_NAME_RE, {
          error:
            'name must start with a lowercase letter and contain only lowercase letters, digits, "_" and "-" (at most 64 characters)',
        })
        .describe('Pattern name, as used in `POST /v1/analyses` `pattern`.'),
      title: z
        .string({ error: required('title', 'a string') })
        .min(1, { error: 'title must not be empty' })
        .max(PATTERN_LIMITS.maxTitleChars, {
          error: `title must be at most ${PATTERN_LIMITS.maxTitleChars} characters`,
        }),
      description: z
        .string({ error: required('description', 'a string') })
        .max(PATTERN_LIMITS.maxDescriptionChars, {
          error: `description must be at most ${PATTERN_LIMITS.maxDescriptionChars} characters`,
        }),
      stages: z
        .array(stage, { error: required('stages', 'a list of stages') })
        .min(1, { error: 'a pattern needs at least one stage' })
        .max(maxStages, { error: `a pattern has at most ${maxStages} stages` }),
      defaults: z
        .strictObject(
          {
            models: modelListSchema.optional(),
            synthesisModel: modelIdSchema.optional(),
            options: runOptionsSchema.optional(),
          },
          { error: 'defaults must be an object with models, synthesisModel and options' },
        )
        .optional()
        .describe(
          'What the pattern runs with when a request names none; a custom pattern with defaults is a named panel (`chorus/<name>`).',
        ),
    },
    { error: 'a pattern must be an object with name, title, description and stages' },
  );
}
