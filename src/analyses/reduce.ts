import type { ErrorInfo } from '../orchestration/events.js';
import type { AnalysisEventPayload } from './events.js';
import type { AnalysisRecord, JobErrorInfo, ModelResponse, StageRecord } from './record.js';

/** What the reducer needs besides the events: how long an ended analysis is kept. */
export interface ReduceContext {
  ttlSeconds: number;
}

/** The error a cancelled analysis carries (its event has no data). */
export const CANCELLED_ERROR: ErrorInfo = {
  code: 'cancelled',
  message: 'The analysis was cancelled by the client.',
};

const NO_USAGE = { inputTokens: 0, outputTokens: 0 };

/** The `details` flag of the progress event that says model deltas are left out from now on. */
export const DELTAS_LEFT_OUT = 'deltasLeftOut';

/**
 * The record after one event: the only way a record changes. Pure — it
 * returns a new record (sharing what did not change) and never touches the
 * one it was given; `at` is the event's time, epoch milliseconds. Events that
 * change nothing the record shows (queued, model.started, deltas, retried
 * failures) return the record itself, so a caller can tell nothing changed.
 */
export function reduce(
  record: AnalysisRecord,
  event: AnalysisEventPayload,
  at: number,
  context: ReduceContext,
): AnalysisRecord {
  switch (event.type) {
    case 'analysis.queued':
    case 'model.started':
    case 'model.delta':
      return record;
    case 'analysis.started':
      return { ...record, status: 'running', startedAt: iso(at) };
    case 'analysis.resumed': {
      const from = record.stages.findIndex((stage) => stage.name === event.data.fromStage);
      // The stage the stopped worker was in starts over; what it completed stands.
      const stages = record.stages.map((stage, index) =>
        from >= 0 && index >= from && stage.status !== 'succeeded' && stage.status !== 'skipped'
          ? pendingStage(stage)
          : stage,
      );
      return { ...record, status: 'running', stages, usage: usageOf(stages) };
    }
    case 'stage.started': {
      const { index } = event.data;
      return withStage(record, index, (stage) => ({
        ...pendingStage(stage),
        status: 'running',
        startedAt: iso(at),
      }));
    }
    case 'model.completed': {
      const { data } = event;
      return addResponse(record, data.stage, {
        model: data.model,
        status: 'succeeded',
        text: data.text,
        error: null,
        latencyMs: data.latencyMs,
        attempts: data.attempts,
        cached: data.cached,
        usage: data.usage,
        costUsd: data.costUsd,
      });
    }
    case 'model.failed': {
      const { data } = event;
      if (data.willRetry) return record;
      return addResponse(record, data.stage, {
        model: data.model,
        status: 'failed',
        text: null,
        error: data.error,
        latencyMs: data.latencyMs ?? 0,
        attempts: data.attempt,
        cached: false,
        usage: NO_USAGE,
        costUsd: 0,
      });
    }
    case 'stage.completed': {
      const { index, status, reason } = event.data;
      return withStage(record, index, (stage) => ({ ...stage, status, reason, completedAt: iso(at) }));
    }
    case 'progress': {
      const { stage, progress, message, details } = event.data;
      const next = { ...record, progress: { stage, progress, message, timestamp: iso(at), details } };
      return details[DELTAS_LEFT_OUT] === true ? { ...next, warnings: [...record.warnings, message] } : next;
    }
    case 'analysis.completed':
      return ended(record, 'succeeded', null, at, context, event.data.result);
    case 'analysis.failed':
      return ended(record, 'failed', event.data.error, at, context, record.result);
    case 'analysis.cancelled':
      return ended(record, 'cancelled', CANCELLED_ERROR, at, context, record.result);
  }
}

/** The record after a sequence of events (a replay: resume, a rebuilt view). */
export function reduceAll(
  record: AnalysisRecord,
  events: Iterable<{ event: AnalysisEventPayload; at: number }>,
  context: ReduceContext,
): AnalysisRecord {
  let current = record;
  for (const { event, at } of events) current = reduce(current, event, at, context);
  return current;
}

/** Tokens and cost, summed over every response that stands. */
export function usageOf(stages: readonly StageRecord[]): AnalysisRecord['usage'] {
  const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  for (const stage of stages) {
    for (const response of stage.responses) {
      usage.inputTokens += response.usage.inputTokens;
      usage.outputTokens += response.usage.outputTokens;
      usage.costUsd += response.costUsd;
    }
  }
  return usage;
}

function ended(
  record: AnalysisRecord,
  status: 'succeeded' | 'failed' | 'cancelled',
  error: JobErrorInfo | null,
  at: number,
  context: ReduceContext,
  result: AnalysisRecord['result'],
): AnalysisRecord {
  const completedAt = iso(at);
  const stages = record.stages.map((stage) =>
    stage.status === 'running'
      ? { ...stage, status: 'failed' as const, reason: error?.message ?? null, completedAt }
      : stage,
  );
  const message =
    status === 'succeeded'
      ? 'Analysis completed.'
      : status === 'cancelled'
        ? 'Analysis cancelled.'
        : `Analysis failed: ${error?.message}`;
  return {
    ...record,
    status,
    error,
    result,
    stages,
    completedAt,
    expiresAt: iso(at + context.ttlSeconds * 1000),
    progress: {
      stage: record.progress.stage,
      progress: status === 'succeeded' ? 1 : record.progress.progress,
      message,
      timestamp: completedAt,
      details: {},
    },
  };
}

function pendingStage(stage: StageRecord): StageRecord {
  return { ...stage, status: 'pending', startedAt: null, completedAt: null, reason: null, responses: [] };
}

function withStage(
  record: AnalysisRecord,
  index: number,
  change: (stage: StageRecord) => StageRecord,
): AnalysisRecord {
  const current = record.stages[index];
  if (!current) return record;
  const stages = record.stages.slice();
  stages[index] = change(current);
  return { ...record, stages };
}

/**
 * Adds a model's final response to its stage. An `each` stage lists its
 * responses in the order of the analysis's models, whatever order they
 * finished in; a `one` stage lists them in the order they were tried.
 */
function addResponse(record: AnalysisRecord, stageName: string, response: ModelResponse): AnalysisRecord {
  const index = record.stages.findIndex((stage) => stage.name === stageName);
  if (index < 0) return record;
  const next = withStage(record, index, (stage) => {
    const responses = [...stage.responses, response];
    if (stage.mode === 'each') {
      const order = new Map(record.models.map((model, position) => [model, position]));
      responses.sort((a, b) => (order.get(a.model) ?? 0) - (order.get(b.model) ?? 0));
    }
    return { ...stage, responses };
  });
  return response.status === 'succeeded' ? { ...next, usage: usageOf(next.stages) } : next;
}

function iso(at: number): string {
  return new Date(at).toISOString();
}
