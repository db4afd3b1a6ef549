import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PatternCatalog } from '../../orchestration/catalog.js';
import { validatePatternDefinition } from '../../orchestration/patterns/validate.js';
import { HttpProblem } from '../problem.js';
import { problems } from '../schemas/common.js';

const stageSchema = z.object({
  name: z.string(),
  mode: z.enum(['each', 'one']),
  template: z.string(),
  anonymize: z.boolean().optional(),
  minResponses: z.number().int().optional(),
  parse: z.enum(['ranking']).optional(),
});

export const patternSchema = z
  .object({ name: z.string(), title: z.string(), description: z.string(), stages: z.array(stageSchema) })
  .meta({ id: 'Pattern' });

const TAGS = ['patterns'];
const security = [{ bearerAuth: [] }];

export async function patternRoutes(
  app: FastifyInstance,
  options: { catalog: PatternCatalog },
): Promise<void> {
  const { catalog } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '/v1/patterns',
    {
      schema: {
        tags: TAGS,
        summary: 'List the patterns you can use',
        security,
        response: { 200: z.object({ data: z.array(patternSchema) }), ...problems(401, 429) },
      },
    },
    async (request) => ({ data: await catalog.list(request.owner) }),
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
      const checked = validatePatternDefinition(request.body);
      if (!checked.ok) {
        throw new HttpProblem('validation', 'The pattern definition is not valid: see errors.', {
          errors: checked.errors,
        });
      }
      if (!(await catalog.register(request.owner, checked.pattern))) {
        throw new HttpProblem(
          'conflict',
          `A pattern named "${checked.pattern.name}" already exists: choose another name.`,
        );
      }
      return reply.code(201).header('location', `/v1/patterns/${checked.pattern.name}`).send(checked.pattern);
    },
  );
}
