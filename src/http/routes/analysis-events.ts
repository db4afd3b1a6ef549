import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type StoredEvent, TERMINAL_EVENTS } from '../../analyses/events.js';
import { TERMINAL_STATUSES } from '../../analyses/record.js';
import type { AnalysisStore } from '../../analyses/store/store.js';
import type { StreamTokens } from '../../analyses/stream-tokens.js';
import { EventStreamWriter } from '../event-stream-writer.js';
import { HttpProblem } from '../problem.js';
import { parseLastEventId } from '../request-headers.js';
import { analysisParamsSchema, eventsQuerySchema } from '../schemas/analyses.js';
import { problems } from '../schemas/common.js';

export interface EventStreamOptions {
  store: AnalysisStore;
  tokens: StreamTokens;
  /** Comment line interval while nothing happens (the contract: at most 15 s). */
  heartbeatMs: number;
  /** What a browser waits before reconnecting (the `retry:` line). */
  retryMs: number;
  /** A subscriber this far behind is disconnected; it can reconnect with Last-Event-ID. */
  maxBufferedBytes: number;
  /** Open streams, so shutdown can close them. */
  open: Set<() => void>;
}

/**
 * The event stream is written on the raw response by an `EventStreamWriter`:
 * each event's frame is serialized once (by whoever reads it first), and a
 * turn's events go out as one chunk shared by every subscriber in step.
 * Replay and live delivery meet without gaps or repeats: the subscription
 * starts before the history is read, and ids only go up.
 */
export async function analysisEventRoutes(app: FastifyInstance, options: EventStreamOptions): Promise<void> {
  const { store, tokens } = options;
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/analyses/:id/events',
    {
      schema: {
        tags: ['analyses'],
        summary: 'Stream an analysis as Server-Sent Events',
        description:
          'text/event-stream. Reconnect with `Last-Event-ID` to receive exactly the missing events; `204` once past the terminal event. `?token=` (from `links.events`) works without an Authorization header.',
        security: [{ bearerAuth: [] }, { streamToken: [] }],
        params: analysisParamsSchema,
        querystring: eventsQuerySchema,
        headers: z.object({ 'last-event-id': z.string().optional() }).loose(),
        response: {
          200: z.string().describe('text/event-stream'),
          204: z.null().describe('the stream already ended before Last-Event-ID'),
          ...problems(400, 401, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const lastEventId = parseLastEventId(request.headers['last-event-id'] ?? request.query.lastEventId);
      const stored = await store.get(id);
      if (!request.owner) {
        // No bearer key: only a valid signed token for this analysis opens the stream.
        if (!request.query.token || !tokens.verify(id, request.query.token)) {
          throw new HttpProblem(
            'unauthorized',
            'The stream token is missing, invalid or expired: use links.events.',
            {
              headers: { 'www-authenticate': 'Bearer realm="chorus", error="invalid_token"' },
            },
          );
        }
        if (stored) request.owner = stored.job.owner;
      }
      if (!stored || stored.job.owner !== request.owner) {
        throw new HttpProblem('notFound', `Analysis ${id} does not exist.`);
      }
      const deltas = request.query.deltas !== 'false';
      const ended = TERMINAL_STATUSES.has(stored.record.status);
      if (ended && lastEventId > 0) {
        const all = await store.readEvents(id, 0);
        const terminal = all.findLast((event) => TERMINAL_EVENTS.has(event.type));
        if (terminal && lastEventId >= terminal.id) return reply.code(204).send(null);
      }

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      raw.write(`retry: ${options.retryMs}\n\n`);

      let unsubscribe = () => {};
      const writer = new EventStreamWriter(raw, {
        after: lastEventId,
        deltas,
        maxBufferedBytes: options.maxBufferedBytes,
        onTooSlow: () =>
          request.log.warn({ analysisId: id }, 'event stream subscriber too slow: disconnected'),
        onClose: () => {
          clearInterval(heartbeat);
          unsubscribe();
          options.open.delete(close);
        },
      });
      const close = () => writer.close();
      const heartbeat = setInterval(() => {
        if (!writer.closed) raw.write(': ping\n\n');
      }, options.heartbeatMs);
      heartbeat.unref();
      options.open.add(close);
      raw.on('close', () => writer.abandon());
      let pending: StoredEvent[] | undefined = [];
      const stop = await store.subscribe(id, (event) => {
        if (pending) pending.push(event);
        else writer.push(event);
      });
      if (writer.closed) stop();
      else unsubscribe = stop;

      for (const event of await store.readEvents(id, lastEventId)) writer.push(event);
      const live = pending;
      pending = undefined;
      for (const event of live) writer.push(event);
    },
  );
}
