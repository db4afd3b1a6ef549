import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ModelHealth } from '../../models/health.js';
import type { ModelRegistry } from '../../models/registry.js';
import { problems } from './schemas/common.js';

const modelSchema = z
  .object({
    id: z.string(),
    provider: z.string(),
    model: z.string(),
    weight: z.number(),
    tags: z.array(z.string()),
    capabilities: z.object({
      streaming: z.boolean(),
      contextWindow: z.number().nullable(),
      maxOutputTokens: z.number().nullable(),
    }),
    pricing: z.object({ inputCostPerMTok: z.number(), outputCostPerMTok: z.number() }),
    available: z.boolean(),
    availability: z.object({ reason: z.string().nullable(), checkedAt: z.string().nullable() }),
    circuit: z.enum(['closed', 'open', 'halfOpen']),
    stats: z.object({ requests: z.number(), failures: z.number(), p50LatencyMs: z.number().nullable() }),
  })
  .meta({ id: 'Model' });

export async function modelRoutes(
  app: FastifyInstance,
  options: { registry: ModelRegistry; health: ModelHealth },
): Promise<void> {
  const { registry, health } = options;
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: 'List the configured models with availability, circuit state and stats',
        security: [{ bearerAuth: [] }],
        response: { 200: z.object({ data: z.array(modelSchema) }), ...problems(401, 429) },
      },
    },
    async () => {
      await registry.refreshAvailability(AbortSignal.timeout(5_000));
      return {
        data: registry.list().map((model) => {
          const availability = registry.availabilityOf(model.provider);
          const capabilities = model.languageModel.capabilities;
          return {
            id: model.id,
            provider: model.provider,
            model: model.model,
            weight: model.weight,
            tags: model.tags,
            capabilities: {
              streaming: capabilities.streaming,
              contextWindow: capabilities.contextWindow,
              maxOutputTokens: capabilities.maxOutputTokens,
            },
            pricing: model.pricing,
            available: registry.isAvailable(model.id),
            availability: {
              reason: availability?.reason ?? null,
              checkedAt: availability?.checkedAt ?? null,
            },
            circuit: health.circuit(model.id),
            stats: health.stats(model.id),
          };
        }),
      };
    },
  );
}
