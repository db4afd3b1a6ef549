import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type PreviewLimits, previewAnalysis } from '../../analyses/preview.js';
import type { ModelRegistry } from '../../models/registry.js';
import { PatternCatalog } from '../../orchestration/catalog.js';
import type { PatternDefinition } from '../../orchestration/patterns/types.js';
import { validatePatternDefinition } from '../../orchestration/patterns/validate.js';
import { modelIdSchema, modelListSchema } from '../../orchestration/run-options-schema.js';
import { zodValidatorCompiler } from '../body-validation.js';
import { HttpProblem, type ProblemFieldError } from '../problem.js';
import { analysisOptionsSchema, promptSchema } from './schemas/analyses.js';
import { problems } from './schemas/common.js';

const stageSchema = z.object({
  name: z.string(),
  mode: z.enum(['each', 'one']),
  template: z.string(),
  anonymize: z.boolean().optional(),
  minResponses: z.number().int().optional(),
  parse: z.enum(['ranking']).optional(),
});

export const patternSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    description: z.string(),
    stages: z.array(stageSchema),
    defaults: z
      .object({
        models: z.array(z.string()).optional(),
        synthesisModel: z.string().optional(),
        options: analysisOptionsSchema.optional(),
      })
      .optional()
      .describe('what the pattern runs with when a request names none'),
  })
  .meta({ id: 'Pattern' });

const patternListSchema = z.object({
  data: z.array(patternSchema),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last'),
});

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

const nameParams = z.object({ name: z.string().min(1).max(100) });

const previewRequestSchema = z
  .object({
    prompt: promptSchema,
    models: modelListSchema.optional(),
    synthesisModel: modelIdSchema.optional(),
  })
  .strict()
  .meta({ id: 'PatternPreviewRequest' });

const previewSchema = z
  .object({
    pattern: z.string(),
    stages: z.array(
      z.object({
        name: z.string(),
        mode: z.enum(['each', 'one']),
        prompts: z.array(z.object({ model: z.string(), prompt: z.string() })),
      }),
    ),
  })
  .meta({ id: 'PatternPreview' });

const TAGS = ['patterns'];
const security = [{ bearerAuth: [] }];

export interface PatternRouteOptions {
  catalog: PatternCatalog;
  /** The configured models, for the selection a preview shows. */
  registry: ModelRegistry;
  /** What a preview may take in and answer (MAX_ANALYSIS_INPUT_BYTES, MAX_PREVIEW_BYTES). */
  previewLimits: PreviewLimits;
  /** Largest definition, in bytes of compact JSON (MAX_PATTERN_BYTES). */
  maxPatternBytes: number;
  /** Most problems a 400 lists (MAX_VALIDATION_ERRORS). */
  maxErrors: number;
}

/** A shared pattern is everyone's: no key may change it. */
function refuseShared(name: string): HttpProblem {
  return new HttpProblem(
    'forbidden',
    `Pattern "${name}" is built in or shared from PATTERNS_DIR: it cannot be changed or removed. Register a copy under another name with POST /v1/patterns.`,
  );
}

function notYours(name: string): HttpProblem {
  return new HttpProblem(
    'notFound',
    `You have no custom pattern named "${name}" (GET /v1/patterns lists yours; POST /v1/patterns registers one).`,
  );
}

export async function patternRoutes(app: FastifyInstance, options: PatternRouteOptions): Promise<void> {
  const { catalog, maxPatternBytes, maxErrors } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  // The parts of a request other than a pattern definition are validated as everywhere else.
  const validateOther = zodValidatorCompiler(maxErrors);

  /**
   * A definition as POST and PUT take it: its size measured before validation (what is kept is at most
   * this big, and an oversized body costs no more work), then validated as a whole, every problem listed.
   */
  function checkedDefinition(body: unknown, extra: ProblemFieldError[] = []): PatternDefinition {
    const bytes = Buffer.byteLength(JSON.stringify(body) ?? '');
    if (bytes > maxPatternBytes) {
      throw new HttpProblem(
        'payloadTooLarge',
        `A pattern definition may be at most ${maxPatternBytes} bytes as JSON (MAX_PATTERN_BYTES); this one is ${bytes}.`,
      );
    }
    const checked = validatePatternDefinition(body, { maxErrors });
    const errors = [...extra, ...(checked.ok ? [] : checked.errors)];
    if (!checked.ok || errors.length > 0) {
      throw new HttpProblem('validation', 'The pattern definition is not valid: see errors.', { errors });
    }
    return checked.pattern;
  }

  typed.get(
    '/v1/patterns',
    {
      schema: {
        tags: TAGS,
        summary: 'List the patterns you can use',
        description:
          'Built-in and shared patterns first, then your own by name, a page at a time (`limit` 1–100, default 20).',
        security,
        querystring: listQuerySchema,
        response: { 200: patternListSchema, ...problems(400, 401, 429) },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      if (cursor !== undefined && !PatternCatalog.validCursor(cursor)) {
        throw new HttpProblem(
          'validation',
          'The cursor is not one this API returned: use nextCursor as given.',
          {
            errors: [{ path: '/cursor', message: 'unknown cursor' }],
          },
        );
      }
      return catalog.page(request.owner, cursor, limit);
    },
  );

  typed.get(
    '/v1/patterns/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Get one pattern',
        security,
        params: nameParams,
        response: { 200: patternSchema, ...problems(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const pattern = await catalog.get(request.owner, request.params.name);
      if (!pattern) throw new HttpProblem('notFound', `Pattern ${request.params.name} does not exist.`);
      return pattern;
    },
  );

  typed.post(
    '/v1/patterns',
    {
      schema: {
        tags: TAGS,
        summary: 'Register a custom pattern (yours alone)',
        description:
          'Validated as a whole: every problem is listed in `errors` with a JSON Pointer into the body. Template variables: `prompt`, `own_response`, `other_responses`, `responses`, `stages.<earlier stage>`.',
        security,
        body: patternSchema.describe('a pattern definition'),
        response: { 201: patternSchema, ...problems(400, 401, 409, 413, 415, 429) },
      },
      // The whole definition is validated below, so that every problem is reported at once.
      validatorCompiler: () => (data) => ({ value: data }),
    },
    async (request, reply) => {
      const pattern = checkedDefinition(request.body);
      const outcome = await catalog.register(request.owner, pattern);
      if (outcome === 'exists') {
        throw new HttpProblem(
          'conflict',
          `A pattern named "${pattern.name}" already exists: choose another name.`,
        );
      }
      if (outcome === 'full') {
        throw new HttpProblem(
          'limitReached',
          `You already have ${catalog.limits.maxPerOwner} custom patterns, the most one API key may keep (MAX_CUSTOM_PATTERNS_PER_KEY).`,
        );
      }
      return reply.code(201).header('location', `/v1/patterns/${pattern.name}`).send(pattern);
    },
  );

  typed.put(
    '/v1/patterns/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Replace one of your custom patterns',
        description:
          'The whole definition, validated as for POST; its `name` must be the one in the path. Analyses already accepted keep the definition they were accepted with. Built-in and shared patterns are `403`.',
        security,
        params: nameParams,
        body: patternSchema.describe('the new definition'),
        response: { 200: patternSchema, ...problems(400, 401, 403, 404, 413, 415, 429) },
      },
      // Validated as a whole below, as for POST.
      validatorCompiler: (route) =>
        route.httpPart === 'body' ? (data) => ({ value: data }) : validateOther(route),
    },
    async (request) => {
      const { name } = request.params;
      if (catalog.isShared(name)) throw refuseShared(name);
      const body = request.body as unknown;
      const bodyName = (body as { name?: unknown } | null)?.name;
      const mismatch =
        typeof bodyName === 'string' && bodyName !== name
          ? [
              {
                path: '/name',
                message: `must be "${name}", the name in the path (a pattern cannot be renamed)`,
              },
            ]
          : [];
      const pattern = checkedDefinition(body, mismatch);
      const outcome = await catalog.replace(request.owner, pattern);
      if (outcome === 'shared') throw refuseShared(name);
      if (outcome === 'missing') throw notYours(name);
      return pattern;
    },
  );

  typed.delete(
    '/v1/patterns/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Remove one of your custom patterns',
        description:
          'Frees its place among your MAX_CUSTOM_PATTERNS_PER_KEY; analyses already accepted keep running it. Built-in and shared patterns are `403`.',
        security,
        params: nameParams,
        response: { 204: z.null().describe('removed'), ...problems(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const outcome = await catalog.remove(request.owner, name);
      if (outcome === 'shared') throw refuseShared(name);
      if (outcome === 'missing') throw notYours(name);
      return reply.code(204).send(null);
    },
  );

  typed.post(
    '/v1/patterns/:name/preview',
    {
      schema: {
        tags: TAGS,
        summary: 'The prompts each stage would send, without calling a model',
        description:
          'For the models the request would select (`models` and `synthesisModel` as for an analysis, else the default selection). The outputs of earlier stages are placeholder text, `<the <stage> output of <model>>` (in an anonymized stage `<an output of the <stage> stage>`). The prompts together hold at most MAX_PREVIEW_BYTES.',
        security,
        params: nameParams,
        body: previewRequestSchema,
        response: { 200: previewSchema, ...problems(400, 401, 404, 413, 415, 422, 429) },
      },
    },
    async (request) => {
      const { name } = request.params;
      const pattern = await catalog.get(request.owner, name);
      if (!pattern) throw new HttpProblem('notFound', `Pattern ${name} does not exist.`);
      const stages = previewAnalysis(options.registry, pattern, request.body, options.previewLimits);
      return { pattern: pattern.name, stages };
    },
  );
}
