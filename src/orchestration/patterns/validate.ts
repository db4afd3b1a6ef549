/**
 * Validation of pattern definitions — custom patterns from `POST /v1/patterns`
 * and from `PATTERNS_DIR`, and (in tests) the built-in ones.
 *
 * The shape is a zod schema; the rules that relate one field to another (stage
 * names unique, templates naming only variables that exist at that point,
 * `minResponses` only on `each` stages, …) are checked by hand. Every problem
 * is reported, each with a JSON Pointer into the input.
 */

import { z } from 'zod';
import { take } from '../../util/cap-list.js';
import { isRecord } from '../../util/is-record.js';
import { TEMPLATE_VARIABLES, templateVariables } from '../template.js';
import type { PatternDefinition, StageDefinition } from './types.js';

export interface PatternValidationError {
  /** JSON Pointer (RFC 6901) into the input, e.g. `/stages/1/template`; `` for the whole input. */
  path: string;
  message: string;
}

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

/** Variables that read the previous stage's outputs. */
const PREVIOUS_STAGE_VARIABLES: ReadonlySet<string> = new Set([
  'own_response',
  'other_responses',
  'responses',
]);
const KNOWN_VARIABLES: ReadonlySet<string> = new Set<string>(TEMPLATE_VARIABLES);
const VARIABLE_LIST = `${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}, {{stages.<name>}}`;

const PATTERN_KEYS = ['name', 'title', 'description', 'stages'] as const;
const STAGE_KEYS = ['name', 'mode', 'template', 'anonymize', 'minResponses', 'parse'] as const;

/** A zod error map: "x is required" when the key is absent, "x must be …" otherwise. */
const required =
  (field: string, expected: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`;

/** Builds the zod schema of a pattern's shape with the given limits (no cross-field rules). */
function shapeSchema(maxStages: number, maxTemplateChars: number) {
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
    },
    { error: 'a pattern must be an object with name, title, description and stages' },
  );
}

/** A zod issue, as far as the cross-field checks need it. */
interface Issue {
  path: Array<string | number>;
  message: string;
}

/**
 * The rules that relate fields to each other. Works on unparsed input and skips
 * whatever has the wrong shape (the schema reports that), so that a pattern
 * with a type error elsewhere still gets these problems reported too.
 */
function crossFieldIssues(input: unknown, maxStages: number): Issue[] {
  const issues: Issue[] = [];
  if (!isRecord(input) || !Array.isArray(input.stages)) return issues;
  // Stages past the limit are already a problem of their own: they are not checked one by one.
  const stages: unknown[] = input.stages.slice(0, maxStages);

  const names = stages.map((s) => (isRecord(s) && typeof s.name === 'string' ? s.name : undefined));
  const firstIndex = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, i);
    else
      issues.push({
        path: ['stages', i, 'name'],
        message: `stage name "${name}" is already used by stage ${first}; stage names must be unique`,
      });
  });

  let rankingStage: number | undefined;
  stages.forEach((stage, i) => {
    if (!isRecord(stage)) return;
    const mode = stage.mode;

    if (stage.minResponses !== undefined && mode === 'one')
      issues.push({
        path: ['stages', i, 'minResponses'],
        message:
          'minResponses applies only to "each" stages (a "one" stage runs a single model); remove it or use mode "each"',
      });

    if (stage.parse === 'ranking') {
      if (i === 0)
        issues.push({
          path: ['stages', i, 'parse'],
          message: "a ranking stage ranks the previous stage's outputs, so it cannot be the first stage",
        });
      if (stage.anonymize !== true)
        issues.push({
          path: ['stages', i, 'parse'],
          message:
            'parse "ranking" reads `Response A`, `Response B`, … labels, so the stage also needs `anonymize: true`',
        });
      if (rankingStage !== undefined)
        issues.push({
          path: ['stages', i, 'parse'],
          message: `only one stage may have parse "ranking" (stage ${rankingStage} already does)`,
        });
      else rankingStage = i;
    }

    if (typeof stage.template !== 'string') return;
    const templatePath = ['stages', i, 'template'];
    const earlier = names.slice(0, i).filter((n): n is string => n !== undefined);

    for (const match of stage.template.matchAll(/\{\{([^{}]*)\}\}/g)) {
      if (templateVariables(match[0]).length === 0)
        issues.push({
          path: templatePath,
          message: `"${match[0]}" is not a valid placeholder; write a variable name between the braces, one of ${VARIABLE_LIST}`,
        });
    }

    for (const variable of templateVariables(stage.template)) {
      if (variable.startsWith('stages.')) {
        const ref = variable.slice('stages.'.length);
        const refIndex = firstIndex.get(ref);
        const earlierList = earlier.length > 0 ? earlier.map((n) => `"${n}"`).join(', ') : 'none';
        if (refIndex === undefined)
          issues.push({
            path: templatePath,
            message: `{{${variable}}} names a stage that does not exist; {{stages.<name>}} must name an earlier stage (earlier stages: ${earlierList})`,
          });
        else if (refIndex >= i)
          issues.push({
            path: templatePath,
            message: `{{${variable}}} names ${refIndex === i ? 'this stage itself' : 'a later stage'}; its outputs do not exist yet when this stage runs. Name an earlier stage (earlier stages: ${earlierList})`,
          });
      } else if (!KNOWN_VARIABLES.has(variable)) {
        issues.push({
          path: templatePath,
          message:
            variable === 'stages'
              ? '{{stages}} needs a stage name: write {{stages.<name>}} with the name of an earlier stage'
              : `unknown variable {{${variable}}}; use one of ${VARIABLE_LIST}`,
        });
      } else if (i === 0 && PREVIOUS_STAGE_VARIABLES.has(variable)) {
        issues.push({
          path: templatePath,
          message: `{{${variable}}} reads the previous stage's outputs, and the first stage has no previous stage; use {{prompt}} here, or move this text to a later stage`,
        });
      }
    }
  });
  return issues;
}

/** Escapes one JSON Pointer reference token (RFC 6901). */
export function escapePointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function toJsonPointer(path: ReadonlyArray<PropertyKey>): string {
  return path.map((seg) => `/${escapePointerToken(typeof seg === 'symbol' ? String(seg) : seg)}`).join('');
}

/** Each zod issue as the problems it reports (one per unknown key), produced only as far as they are read. */
function* zodIssuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  allowedKeys: (path: PropertyKey[]) => string,
): Generator<PatternValidationError> {
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        yield {
          path: toJsonPointer([...issue.path, key]),
          message: `unknown key "${key}"; allowed keys: ${allowedKeys(issue.path)}`,
        };
    } else {
      yield { path: toJsonPointer(issue.path), message: issue.message };
    }
  }
}

function issueCount(issues: readonly z.core.$ZodIssue[]): number {
  let total = 0;
  for (const issue of issues) total += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
  return total;
}

function allowedKeysAt(path: PropertyKey[]): string {
  return (path.length === 0 ? PATTERN_KEYS : STAGE_KEYS).join(', ');
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
  return { ok: true, pattern };
}
