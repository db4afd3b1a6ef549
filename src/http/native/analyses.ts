import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AnalysisRecord, AnalysisSummary } from '../../analyses/record.js';
import type { AnalysisService } from '../../analyses/service.js';
import { decodeCursor } from '../../analyses/store/cursor.js';
import { clientGone } from '../client-gone.js';
import { HttpProblem } from '../problem.js';
import { parseIdempotencyKey, parsePreferWait } from '../request-headers.js';
import {
  analysisListSchema,
  analysisParamsSchema,
  analysisRecordSchema,
  createAnalysisSchema,
  listQuerySchema,
} from './schemas/analyses.js';
import { problems } from './schemas/common.js';

const TAGS = ['analyses'];
const security = [{ bearerAuth: [] }];

export function toSummary(record: AnalysisRecord): AnalysisSummary {
  return {
    id: record.id,
    status: record.status,
    pattern: record.pattern,
    models: record.models,
    progress: record.progress,
    createdAt: record.createdAt,
    completedAt: record.completedAt,
    links: record.links,
  };
}

export async function analysisRoutes(
  app: FastifyInstance,
  options: { service: AnalysisService },
): Promise<void> {
  const { service } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    '/v1/analyses',
    {
      // Every answer to this POST, errors included, depends on Prefer.
      onRequest: async (_request, reply) => {
        reply.header('vary', 'Prefer');
      },
      schema: {
        tags: TAGS,
        summary: 'Start an analysis',
        description:
          'Runs the prompt through the selected models along the pattern. Answers 202 at once; with `Prefer: wait=N` holds up to N seconds (at most 60) and answers 200 with the final record when it ends in time.',
        security,
        headers: z
          .object({
            'idempotency-key': z
              .string()
              .optional()
              .describe('replays return the same analysis for 24 hours'),
            prefer: z.string().optional().describe('wait=N (seconds, at most 60)'),
          })
          .loose(),
        body: createAnalysisSchema,
        response: {
          200: analysisRecordSchema,
          202: analysisRecordSchema,
          ...problems(400, 401, 402, 403, 409, 413, 415, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key']);
      const wait = parsePreferWait(request.headers.prefer);
      // What the service refuses (ServiceError) the problem-details handler answers.
      const submitted = await service.submit(request.owner, request.body, idempotencyKey, {
        key: request.apiKey,
        trace: request.traceCarrier,
      });
      const { record } = submitted;
      reply.header('location', record.links.self).header('vary', 'Prefer');
      if (!submitted.created) reply.header('idempotent-replayed', 'true');
      if (wait !== undefined && wait > 0) {
        const ended = await service.waitForEnd(record.id, wait * 1000, clientGone(reply));
        // Read the record again: with a shared store the copy in hand is the one accepted.
        const final = ended ? await service.get(request.owner, record.id) : undefined;
        if (final) {
          reply.header('preference-applied', `wait=${wait}`);
          return reply.code(200).send(final);
        }
      }
      // Records are never changed once made: this is the analysis as accepted, whatever happened since.
      return reply.code(202).send(record);
    },
  );

  typed.get(
    '/v1/analyses',
    {
      schema: {
        tags: TAGS,
        summary: 'List your analyses, newest first',
        security,
        querystring: listQuerySchema,
        response: { 200: analysisListSchema, ...problems(400, 401, 429) },
      },
    },
    async (request) => {
      const { cursor, limit, status } = request.query;
      if (cursor !== undefined && decodeCursor(cursor) === undefined) {
        throw new HttpProblem(
          'validation',
          'The cursor is not one this API returned: use nextCursor as given.',
          {
            errors: [{ path: '/cursor', message: 'unknown cursor' }],
          },
        );
      }
      const page = await service.list(request.owner, { cursor, limit, status });
      return { data: page.data.map(toSummary), nextCursor: page.nextCursor };
    },
  );

  typed.get(
    '/v1/analyses/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Get an analysis',
        security,
        params: analysisParamsSchema,
        response: { 200: analysisRecordSchema, ...problems(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const record = await service.get(request.owner, request.params.id);
      if (!record) throw new HttpProblem('notFound', `Analysis ${request.params.id} does not exist.`);
      return record;
    },
  );

  typed.post(
    '/v1/analyses/:id/cancel',
    {
      schema: {
        tags: TAGS,
        summary: 'Cancel a queued or running analysis',
        security,
        params: analysisParamsSchema,
        response: { 200: analysisRecordSchema, ...problems(400, 401, 404, 409, 429) },
      },
    },
    async (request) => {
      return service.cancel(request.owner, request.params.id);
    },
  );

  typed.delete(
    '/v1/analyses/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete an ended analysis and its events',
        security,
        params: analysisParamsSchema,
        response: { 204: z.null().describe('deleted'), ...problems(400, 401, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      await service.delete(request.owner, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
