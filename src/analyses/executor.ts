import { setMaxListeners } from 'node:events';
import type { FastifyBaseLogger as Logger } from 'fastify';
import {
  type AnalysisEventPayload,
  type AnalysisRecord,
  type ErrorInfo,
  TERMINAL_STATUSES,
} from '../domain/analysis.js';
import type { ModelCaller } from '../models/call-model.js';
import type { ModelRegistry } from '../models/registry.js';
import { fallbackOrder } from '../models/selector.js';
import { adaptSettings, type CallSettings } from '../models/settings.js';
import { attachRanking, type CouncilRanking, rankCouncil } from '../orchestration/council.js';
import { type PatternRunEnd, runPattern } from '../orchestration/run-pattern.js';
import type { StageOutput } from '../orchestration/stage-inputs.js';
import type { AnalysisStore, WriteOptions } from './store/store.js';
import { isStoreUnavailable, toStoreError } from './store/store-errors.js';

/** Abort reasons the executor tells apart from a client's cancel. */
export const SHUTDOWN = Symbol('shutdown');
export const HANDOFF = Symbol('handoff');

const iso = () => new Date().toISOString();

/** Events after which the record is persisted (stores that keep records apart from the process). */
const CHECKPOINTS = new Set<AnalysisEventPayload['type']>([
  'analysis.started',
  'analysis.resumed',
  'stage.started',
  'stage.completed',
  'model.completed',
]);

export interface ExecutorOptions {
  store: AnalysisStore;
  registry: ModelRegistry;
  caller: ModelCaller;
  logger: Logger;
  ttlSeconds: number;
  onFinished?: (status: string) => void;
}

/** Thrown when the store refuses a write: another worker holds the analysis now. */
export class LostOwnership extends Error {
  override readonly name = 'LostOwnership';
}

/**
 * Runs one analysis from its stored record to its terminal state. A record
 * found `running` was started by a worker that stopped: the run resumes from
 * the last completed stage and says so with `analysis.resumed`.
 */
export class AnalysisExecutor {
  constructor(private readonly options: ExecutorOptions) {}

  async run(id: string, signal: AbortSignal, write: WriteOptions = {}): Promise<void> {
    const { store, registry, caller, logger } = this.options;
    // Every model call of the analysis listens to its signal: a dozen models
    // are no leak, and must not print Node's listener-leak warning.
    setMaxListeners(0, signal);
    const stored = await store.get(id);
    if (!stored || TERMINAL_STATUSES.has(stored.record.status)) return;
    const { record, job } = stored;
    const emit = this.emitter(record, write);
    const completed = new Map<string, StageOutput[]>();
    if (record.status === 'running') {
      const fromStage = this.prepareResume(record, completed);
      emit({
        type: 'analysis.resumed',
        data: { fromStage, reason: 'The worker running this analysis stopped; another worker took it over.' },
      });
    } else {
      record.status = 'running';
      record.startedAt = iso();
      emit({
        type: 'analysis.started',
        data: { pattern: record.pattern, models: record.models, synthesisModel: record.synthesisModel },
      });
    }
    const settings = new Map<string, CallSettings>();
    const settingsFor = (modelId: string) => {
      let found = settings.get(modelId);
      if (!found) {
        found = adaptSettings(registry.get(modelId)!, job.options).settings;
        settings.set(modelId, found);
      }
      return found;
    };
    let end: PatternRunEnd;
    let council: CouncilRanking | undefined;
    try {
      end = await runPattern({
        pattern: job.pattern,
        record,
        job,
        fallbackOrder: fallbackOrder(registry, record),
        settingsFor,
        caller,
        emit,
        signal,
        completed,
        afterStage: (stage, outputs, inputs) => {
          if (stage.parse === 'ranking') council = rankCouncil(outputs, inputs);
        },
      });
      await emit.flush();
    } catch (error) {
      if (error instanceof LostOwnership || signal.reason === HANDOFF) return;
      // Not the analysis's fault, and nothing can be written now: the queue resumes it later.
      if (isStoreUnavailable(error)) throw toStoreError(error);
      logger.error({ err: error, analysisId: id }, 'analysis failed unexpectedly');
      end = { status: 'failed', error: { code: 'internal', message: 'The analysis failed unexpectedly.' } };
    }
    if (signal.aborted && signal.reason === HANDOFF) return;
    if (signal.aborted && signal.reason === SHUTDOWN) {
      end = {
        status: 'failed',
        error: {
          code: 'shutdown',
          message: 'The service shut down before the analysis finished: submit it again.',
        },
      };
    }
    if (end.status === 'cancelled') return; // the cancel wrote the terminal state
    attachRanking(record, council);
    await this.finish(record, end.status, end.status === 'failed' ? end.error : null, write);
  }

  /** Outputs of the stages a previous worker completed; the stage it was in starts over. */
  private prepareResume(record: AnalysisRecord, completed: Map<string, StageOutput[]>): string {
    let previous: StageOutput[] = [];
    let fromStage = record.stages[0]?.name ?? '';
    for (const stage of record.stages) {
      if (stage.status === 'succeeded') {
        const outputs = stage.responses
          .filter((response) => response.status === 'succeeded' && response.text !== null)
          .map((response) => ({ model: response.model, text: response.text! }));
        completed.set(stage.name, outputs);
        previous = outputs;
        continue;
      }
      if (stage.status === 'skipped') {
        completed.set(stage.name, previous);
        continue;
      }
      fromStage = stage.name;
      for (const later of record.stages.slice(record.stages.indexOf(stage))) {
        later.status = 'pending';
        later.startedAt = null;
        later.completedAt = null;
        later.reason = null;
        later.responses = [];
      }
      break;
    }
    // Usage is summed again from the stages that stand.
    record.usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    for (const stage of record.stages) {
      for (const response of stage.responses) {
        record.usage.inputTokens += response.usage.inputTokens;
        record.usage.outputTokens += response.usage.outputTokens;
        record.usage.costUsd += response.costUsd;
      }
    }
    return fromStage;
  }

  /**
   * Appends events in order. Stores that need a round trip get a chain of
   * writes; the record is persisted at checkpoints. A refused write means the
   * analysis is no longer ours (it ended, or another worker took it over).
   */
  private emitter(record: AnalysisRecord, write: WriteOptions) {
    const store = this.options.store;
    const id = record.id;
    if (store.appendNow) {
      const appendNow = store.appendNow.bind(store);
      return Object.assign((event: AnalysisEventPayload) => void appendNow(id, event), {
        flush: async () => {},
      });
    }
    let chain: Promise<unknown> = Promise.resolve();
    let failure: unknown;
    const emit = (event: AnalysisEventPayload) => {
      chain = chain.then(async () => {
        if (failure) return;
        const stored = await store.append(id, event, write);
        if (!stored) {
          failure = new LostOwnership(`Analysis ${id}: the event log refused a write.`);
          return;
        }
        if (CHECKPOINTS.has(event.type)) await store.save(record, write);
      });
      chain.catch((error: unknown) => {
        failure ??= error;
      });
    };
    return Object.assign(emit, {
      flush: async () => {
        await chain.catch(() => {});
        if (failure) throw failure;
      },
    });
  }

  /** Writes the terminal state once: status, times, progress and the terminal event, together. */
  async finish(
    record: AnalysisRecord,
    status: 'succeeded' | 'failed' | 'cancelled',
    error: ErrorInfo | null,
    write: WriteOptions = {},
  ): Promise<boolean> {
    if (TERMINAL_STATUSES.has(record.status)) return false;
    const completed = Date.now();
    record.status = status;
    record.error = error;
    record.completedAt = new Date(completed).toISOString();
    record.expiresAt = new Date(completed + this.options.ttlSeconds * 1000).toISOString();
    for (const stage of record.stages) {
      if (stage.status === 'running') {
        stage.status = 'failed';
        stage.reason = error?.message ?? null;
        stage.completedAt = record.completedAt;
      }
    }
    record.progress = {
      stage: record.progress.stage,
      progress: status === 'succeeded' ? 1 : record.progress.progress,
      message:
        status === 'succeeded'
          ? 'Analysis completed.'
          : status === 'cancelled'
            ? 'Analysis cancelled.'
            : `Analysis failed: ${error?.message}`,
      timestamp: record.completedAt,
      details: {},
    };
    const event: AnalysisEventPayload =
      status === 'succeeded'
        ? { type: 'analysis.completed', data: record }
        : status === 'cancelled'
          ? { type: 'analysis.cancelled', data: {} }
          : { type: 'analysis.failed', data: { error: error! } };
    const stored = await this.options.store.append(record.id, event, { ...write, record });
    if (!stored) return false;
    this.options.store.retain(record.id);
    this.options.onFinished?.(status);
    return true;
  }
}
