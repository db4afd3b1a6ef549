/**
 * Validation of pattern definitions — custom patterns from `POST /v1/patterns`
 * and from `PATTERNS_DIR`, and (in tests) the built-in ones.
 *
 * The shape is a zod schema (`pattern-schema.ts`); the rules that relate one
 * field to another are checked by hand (`pattern-rules.ts`). Every problem is
 * reported, each with a JSON Pointer into the input (`validation-errors.ts`).
 */

import type { z } from 'zod';
import { take } from '../../util/cap-list.js';
import { crossFieldIssues } from './pattern-rules.js';
import { PATTERN_LIMITS, shapeSchema } from './pattern-schema.js';
import type { PatternDefinition, StageDefinition } from './types.js';
import {
  allowedKeysAt,
  issueCount,
  type PatternValidationError,
  toJsonPointer,
  zodIssuesToErrors,
} from './validation-errors.js';

export { PATTERN_LIMITS, PATTERN_NAME_RE, STAGE_NAME_RE } from './pattern-schema.js';
export { escapePointerToken, type PatternValidationError, toJsonPointer } from './validation-errors.js';

export type PatternValidationResult =
  | { ok: true; pattern: PatternDefinition }
  | { ok: false; errors: PatternValidationError[] };

export interface PatternValidationOptions {
  /** Most stages a pattern may have (default 10). */
  maxStages?: number;
  /** Longest template, in characters (default 20,000). */
  maxTemplateChars?: number;
  /** Most problems listed; the rest are counted in one last entry (default 20). */
  maxErrors?: number;
}

/**
 * The zod schema of a pattern definition (default limits), for the HTTP layer
 * and the OpenAPI document. It includes the cross-field rules as a refinement,
 * but zod runs refinements only once the shape is valid; to get every problem
 * at once, call {@link validatePatternDefinition}.
 */
export const patternDefinitionSchema = shapeSchema(PATTERN_LIMITS.maxStages, PATTERN_LIMITS.maxTemplateChars)
  .superRefine((value, ctx) => {
    for (const issue of crossFieldIssues(value, PATTERN_LIMITS.maxStages))
      ctx.addIssue({ code: 'custom', ...issue });
  })
  .describe('A pattern: named stages, each rendered from a template and run by every model or by one.');

export type PatternDefinitionInput = z.input<typeof patternDefinitionSchema>;

const defaultShape = shapeSchema(PATTERN_LIMITS.maxStages, PATTERN_LIMITS.maxTemplateChars);

/** Validates an untrusted pattern definition and lists every problem found. */
export function validatePatternDefinition(
  input: unknown,
  options: PatternValidationOptions = {},
): PatternValidationResult {
  const maxStages = options.maxStages ?? PATTERN_LIMITS.maxStages;
  const maxTemplateChars = options.maxTemplateChars ?? PATTERN_LIMITS.maxTemplateChars;
  const schema =
    maxStages === PATTERN_LIMITS.maxStages && maxTemplateChars === PATTERN_LIMITS.maxTemplateChars
      ? defaultShape
      : shapeSchema(maxStages, maxTemplateChars);

  const maxErrors = options.maxErrors ?? PATTERN_LIMITS.maxErrors;

  const parsed = schema.safeParse(input);
  const issues = parsed.success ? [] : parsed.error.issues;
  const shapeTotal = issueCount(issues);
  // Only the problems that will be listed are built: a body of 150,000 unknown keys costs 20 messages.
  const errors = take(zodIssuesToErrors(issues, allowedKeysAt), maxErrors);
  const crossField = crossFieldIssues(input, maxStages);
  for (const issue of crossField.slice(0, Math.max(0, maxErrors - errors.length)))
    errors.push({ path: toJsonPointer(issue.path), message: issue.message });
  const total = shapeTotal + crossField.length;

  // Problems of the pattern itself first, then stage by stage (stable within each).
  const stageOf = (path: string) => {
    const m = /^\/stages\/(\d+)(?:\/|$)/.exec(path);
    return m ? Number(m[1]) : -1;
  };
  errors.sort((a, b) => stageOf(a.path) - stageOf(b.path));
  if (total > errors.length) {
    const rest = total - errors.length;
    errors.push({
      path: '',
      message: `and ${rest} more problem${rest === 1 ? '' : 's'} (only the first are listed)`,
    });
  }

  if (errors.length > 0 || !parsed.success) {
    return { ok: false, errors };
  }

  const data = parsed.data;
  const pattern: PatternDefinition = {
    name: data.name,
    title: data.title,
    description: data.description,
    stages: data.stages.map((s) => {
      const stage: StageDefinition = { name: s.name, mode: s.mode, template: s.template };
      if (s.anonymize !== undefined) stage.anonymize = s.anonymize;
      if (s.minResponses !== undefined) stage.minResponses = s.minResponses;
      if (s.parse !== undefined) stage.parse = s.parse;
      return stage;
    }),
  };
  if (data.defaults !== undefined) pattern.defaults = data.defaults;
  return { ok: true, pattern };
}
