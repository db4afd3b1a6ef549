import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AnalysisService } from '../../analyses/service.js';
import { createAnalysisSchema } from './schemas/analyses.js';
import { problems } from './schemas/common.js';
import { estimateSchema } from './schemas/estimate.js';

/** `POST /v1/analyses/estimate`: what an analysis would cost, without calling a model. */
export async function estimateRoutes(
  app: FastifyInstance,
  options: { service: AnalysisService },
): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/analyses/estimate',
    {
      schema: {
        tags: ['analyses'],
        summary: 'Estimate the calls, tokens and cost of an analysis',
        description:
          'Takes the body of POST /v1/analyses and answers its calls per stage, input tokens (counted with the tokenizer of each model family where one is known) and cost: `max` if every call writes its maxTokens, `expected` with the output lengths seen per model. No model is called.',
        security: [{ bearerAuth: [] }],
        body: createAnalysisSchema,
        response: { 200: estimateSchema, ...problems(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request) => options.service.estimate(request.owner, request.body, request.apiKey),
  );
}
