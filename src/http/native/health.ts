import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AnalysisStore } from '../../analyses/store/store.js';
import { HttpProblem, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../problem.js';
import { problems } from './schemas/common.js';

export async function healthRoutes(app: FastifyInstance, options: { store: AnalysisStore }): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  typed.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: configuration loaded and the store reachable',
        description: 'Provider outages do not make an instance unready; they show in GET /v1/models.',
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }),
          ...problems(503),
        },
      },
    },
    async () => {
      const storeUp = await options.store.ping().catch(() => false);
      if (!storeUp) {
        throw new HttpProblem(
          'unavailable',
          'Not ready: the store does not answer (check REDIS_URL and the server).',
          {
            headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
          },
        );
      }
      return { status: 'ready' as const, checks: { config: 'ok', store: 'ok' } };
    },
  );
}
