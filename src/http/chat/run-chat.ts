/**
 * How a chat surface runs its request: as an ordinary analysis on the same
 * job path as `/v1` (service.submit), read back from its events. A client
 * that leaves before the answer is complete cancels the analysis.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnalysisRecord } from '../../analyses/record.js';
import type { AnalysisService, CreateAnalysisInput } from '../../analyses/service.js';
import type { AnalysisStore } from '../../analyses/store/store.js';
import { clientGone } from '../client-gone.js';
import { openEventStream } from '../event-stream-head.js';
import { type AnswerPart, AnswerParts } from './answer-parts.js';
import { ChatError } from './chat-error.js';
import { followAnalysis } from './follow-analysis.js';
import type { ModelNames } from './model-names.js';

export interface ChatDeps extends ModelNames {
  service: AnalysisService;
  store: AnalysisStore;
  /** Open streams, so shutdown can close them. */
  open: Set<() => void>;
}

/** The longest a timer can wait: the answer waits for the analysis, however long it runs. */
const UNTIL_THE_END_MS = 2_147_483_647;

export const ANALYSIS_ID_HEADER = 'chorus-analysis-id';

function cancelQuietly(deps: ChatDeps, owner: string, id: string): void {
  // Already ended is fine: there is nothing left to stop.
  deps.service.cancel(owner, id).catch(() => {});
}

/**
 * Runs the analysis to its end; the final record, or a ChatError when it did
 * not succeed. Undefined: the client left (the analysis is cancelled).
 */
export async function answerWhole(
  deps: ChatDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: CreateAnalysisInput,
): Promise<AnalysisRecord | undefined> {
  const { record } = await deps.service.submit(request.owner, input, undefined, {
    key: request.apiKey,
    trace: request.traceCarrier,
  });
  reply.header(ANALYSIS_ID_HEADER, record.id);
  let left = false;
  const gone = clientGone(reply).then(() => {
    left = true;
    cancelQuietly(deps, request.owner, record.id);
  });
  await deps.service.waitForEnd(record.id, UNTIL_THE_END_MS, gone);
  if (left) {
    // Nobody is there to read an answer: let go of the response.
    reply.hijack();
    reply.raw.destroy();
    return undefined;
  }
  const final = await deps.service.get(request.owner, record.id);
  if (final?.status === 'succeeded') return final;
  throw failure(final);
}

function failure(record: AnalysisRecord | undefined): ChatError {
  if (!record)
    return new ChatError('analysis_failed', 'The analysis no longer exists.', { code: 'internal' });
  const error = record.error ?? { code: record.status, message: `The analysis ended ${record.status}.` };
  return new ChatError('analysis_failed', `The analysis failed: ${error.message}`, { code: error.code });
}

export interface StreamSurface {
  /** Leave the earlier stages out (`chorus.reasoning: false`). */
  reasoning: boolean;
  /** Text written as the stream opens. */
  open(record: AnalysisRecord): string;
  /** The text of one part; the stream closes after a `done` or `error` part. */
  part(part: AnswerPart): string;
}

/** Streams the analysis as the surface writes it. */
export async function answerStream(
  deps: ChatDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: CreateAnalysisInput,
  surface: StreamSurface,
): Promise<void> {
  const { record } = await deps.service.submit(request.owner, input, undefined, {
    key: request.apiKey,
    trace: request.traceCarrier,
  });
  const raw = openEventStream(request, reply, { [ANALYSIS_ID_HEADER]: record.id });
  raw.write(surface.open(record));
  const parts = new AnswerParts(record, { reasoning: surface.reasoning });
  let stop = () => {};
  const close = () => {
    stop();
    deps.open.delete(close);
    if (!raw.writableEnded) raw.end();
  };
  deps.open.add(close);
  raw.once('close', () => {
    if (!parts.ended) cancelQuietly(deps, request.owner, record.id);
    close();
  });
  const write = (part: AnswerPart) => {
    if (raw.writableEnded) return;
    raw.write(surface.part(part));
    if (part.type === 'done' || part.type === 'error') close();
  };
  try {
    stop = await followAnalysis(
      deps.store,
      record.id,
      (event) => {
        for (const part of parts.push(event)) write(part);
      },
      () => write({ type: 'error', code: 'internal', message: 'The analysis no longer exists.' }),
    );
    if (raw.writableEnded) stop();
  } catch (error) {
    request.log.warn({ analysisId: record.id, err: error }, 'chat stream could not read the analysis');
    write({ type: 'error', code: 'internal', message: 'The analysis could not be read: retry shortly.' });
  }
}
