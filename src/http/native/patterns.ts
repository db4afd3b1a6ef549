import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PatternCatalog } from '../../orchestration/catalog.js';
import { validatePatternDefinition } from '../../orchestration/patterns/validate.js';
import { HttpProblem } from '../problem.js';
import { analysisOptionsSchema } from './schemas/analyses.js';
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

const TAGS = ['patterns'];
const security = [{ bearerAuth: [] }];

export interface PatternRouteOptions {
  catalog: PatternCatalog;
  /** Largest definition, in bytes of compact JSON (MAX_PATTERN_BYTES). */
  maxPatternBytes: number;
  /** Most problems a 400 lists (MAX_VALIDATION_ERRORS). */
  maxErrors: number;
}

export async function patternRoutes(app: FastifyInstance, options: PatternRouteOptions): Promise<void> {
  const { catalog, maxPatternBytes, maxErrors } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();

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
        params: z.object({ name: z.string().min(1).max(100) }),
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
      // Measured before validation: what is kept is at most this big, and an oversized body costs no more work.
      const bytes = Buffer.byteLength(JSON.stringify(request.body) ?? '');
      if (bytes > maxPatternBytes) {
        throw new HttpProblem(
          'payloadTooLarge',
          `A pattern definition may be at most ${maxPatternBytes} bytes as JSON (MAX_PATTERN_BYTES); this one is ${bytes}.`,
        );
      }
      const checked = validatePatternDefinition(request.body, { maxErrors });
      if (!checked.ok) {
        throw new HttpProblem('validation', 'The pattern definition is not valid: see errors.', {
          errors: checked.errors,
        });
      }
      const outcome = await catalog.register(request.owner, checked.pattern);
      if (outcome === 'exists') {
        throw new HttpProblem(
          'conflict',
          `A pattern named "${checked.pattern.name}" already exists: choose another name.`,
        );
      }
      if (outcome === 'full') {
        throw new HttpProblem(
          'limitReached',
          `You already have ${catalog.limits.maxPerOwner} custom patterns, the most one API key may keep (MAX_CUSTOM_PATTERNS_PER_KEY).`,
        );
      }
      return reply.code(201).header('location', `/v1/patterns/${checked.pattern.name}`).send(checked.pattern);
    },
  );
}
