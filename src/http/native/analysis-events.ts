import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HISTORY_PIECE_BYTES } from '../../analyses/store/history.js';
import type { AnalysisStore } from '../../analyses/store/store.js';
import { openEventStream } from '../event-stream-head.js';
import { EventStreamWriter } from '../event-stream-writer.js';
import { HttpProblem } from '../problem.js';
import { parseLastEventId } from '../request-headers.js';
import type { StreamTokens } from '../stream-tokens.js';
import { analysisParamsSchema, eventsQuerySchema } from './schemas/analyses.js';
import { problems } from './schemas/common.js';

export interface EventStreamOptions {
  store: AnalysisStore;
  tokens: StreamTokens;
  /** Comment line interval while nothing happens (the contract: at most 15 s). */
  heartbeatMs: number;
  /** What a browser waits before reconnecting (the `retry:` line). */
  retryMs: number;
  /** A subscriber this far behind is disconnected; it can reconnect with Last-Event-ID. */
  maxBufferedBytes: number;
  /** MAX_SUBSCRIBERS_PER_ANALYSIS: streams of one analysis open at once. */
  maxPerAnalysis: number;
  /** MAX_EVENT_STREAMS: streams open at once on this instance. */
  maxStreams: number;
  /** Open streams, so shutdown can close them. */
  open: Set<() => void>;
}

/**
 * The event stream is written on the raw response by an `EventStreamWriter`:
 * each event's frame is serialized once (by whoever reads it first), and a
 * turn's events go out as one chunk shared by every subscriber in step.
 * Replay and live delivery meet without gaps or repeats: the subscription
 * starts before the history is read, and ids only go up. The history is
 * written a bounded piece at a time, at the pace the client reads it.
 */
export async function analysisEventRoutes(app: FastifyInstance, options: EventStreamOptions): Promise<void> {
  const { store, tokens } = options;
  /** Open streams per analysis id, on this instance. */
  const streams = new Map<string, number>();
  let open = 0;
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
      const head = await store.logHead(id);
      if (!head) throw new HttpProblem('notFound', `Analysis ${id} does not exist.`);
      // Nothing after the terminal event: 204 tells a browser's EventSource to stop.
      if (head.ended && lastEventId >= head.lastId) return reply.code(204).send(null);
      if (lastEventId > head.lastId) {
        throw new HttpProblem(
          'validation',
          `Last-Event-ID ${lastEventId} is past the last event of analysis ${id} (${head.lastId}): it names no event of this stream. Reconnect without it, or with the id of the last event received.`,
          { errors: [{ path: '/headers/last-event-id', message: `at most ${head.lastId}` }] },
        );
      }
      admit(id);

      const raw = openEventStream(request, reply);
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
          release(id);
        },
      });
      const close = () => writer.close();
      const heartbeat = setInterval(() => writer.ping(), options.heartbeatMs);
      heartbeat.unref();
      options.open.add(close);
      raw.on('close', () => writer.abandon());
      const stop = await store.subscribe(
        id,
        (event) => writer.push(event),
        () => {
          request.log.warn({ analysisId: id }, 'streamed analysis no longer exists: stream ended');
          writer.gone(id, `Analysis ${id} no longer exists: it was deleted, expired or lost by the store.`);
        },
      );
      if (writer.closed) stop();
      else unsubscribe = stop;

      try {
        await writer.replay(store.readHistory(id, lastEventId, { deltas, pieceBytes: HISTORY_PIECE_BYTES }));
      } catch (error) {
        // The store failed mid-replay: drop the connection; the client resumes with Last-Event-ID.
        request.log.warn({ analysisId: id, err: error }, 'event stream replay failed: disconnected');
        writer.destroy();
      }
    },
  );

  /** Counts a stream in, or answers 429 past either cap. */
  function admit(id: string): void {
    const count = streams.get(id) ?? 0;
    const limit =
      count >= options.maxPerAnalysis
        ? `Analysis ${id} already has ${count} open event streams, the most this server allows per analysis (MAX_SUBSCRIBERS_PER_ANALYSIS=${options.maxPerAnalysis}).`
        : open >= options.maxStreams
          ? `This server already has ${open} open event streams, the most it allows (MAX_EVENT_STREAMS=${options.maxStreams}).`
          : undefined;
    if (limit) {
      throw new HttpProblem(
        'rateLimited',
        `${limit} Retry after ${RETRY_AFTER_SECONDS} s, or share one stream.`,
        {
          headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
        },
      );
    }
    streams.set(id, count + 1);
    open++;
  }

  function release(id: string): void {
    const count = (streams.get(id) ?? 1) - 1;
    if (count > 0) streams.set(id, count);
    else streams.delete(id);
    open--;
  }
}

/** What a client refused past a stream cap waits before trying again. */
const RETRY_AFTER_SECONDS = 5;
