import { setMaxListeners } from 'node:events';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { ModelCaller } from '../models/call-model.js';
import type { ModelRegistry } from '../models/registry.js';
import { fallbackOrder } from '../models/selector.js';
import { adaptSettings, type CallSettings } from '../models/settings.js';
import { type CouncilRanking, rankCouncil, withRanking } from '../orchestration/council.js';
import { type CompletedStage, type PatternRunEnd, runPattern } from '../orchestration/run-pattern.js';
import type { StageOutput } from '../orchestration/stage-inputs.js';
import { modelTurns } from './conversation.js';
import type { AnalysisEventPayload } from './events.js';
import type { AnalysisJob } from './job.js';
import { JobLog, LostOwnership } from './job-log.js';
import { type AnalysisRecord, type JobErrorInfo, TERMINAL_STATUSES } from './record.js';
import { reduce } from './reduce.js';
import type { AnalysisStore, StoredAnalysis, WriteOptions } from './store/store.js';
import { isStoreUnavailable, toStoreError } from './store/store-errors.js';
import type { AnalysisTrace, Tracing } from './tracing/tracing.js';

export { LostOwnership } from './job-log.js';

/** Abort reasons the executor tells apart from a client's cancel. */
export const SHUTDOWN = Symbol('shutdown');
export const HANDOFF = Symbol('handoff');

export interface ExecutorOptions {
  store: AnalysisStore;
  registry: ModelRegistry;
  caller: ModelCaller;
  logger: Logger;
  ttlSeconds: number;
  /** Event bytes per analysis past which model deltas are left out (MAX_ANALYSIS_EVENT_BYTES). */
  maxEventBytes?: number | undefined;
  /** Told the final record of every analysis this process ended (metrics, webhooks). */
  onEnded?: (record: AnalysisRecord) => void;
  /** Awaited before the terminal event is written (the key's budget reservation is given back). */
  beforeEnd?: ((analysisId: string) => Promise<void>) | undefined;
  /** In-process readers of every event a run emits (output lengths, spend, metrics). */
  observe?: ((job: AnalysisJob, event: AnalysisEventPayload) => void) | undefined;
  /** Epoch milliseconds; events are stamped with it. */
  now?: () => number;
  /** Builds each run's spans from its events; undefined (tracing off) costs one check per run. */
  tracing?: Tracing | undefined;
}

/**
 * Runs one analysis from its stored record to its terminal state. The run
 * emits events; the record is their reduction (`reduce.ts`), never edited. A
 * record found `running` was started by a worker that stopped: the run
 * resumes from the last completed stage and says so with `analysis.resumed`.
 */
export class AnalysisExecutor {
  private readonly now: () => number;

  constructor(private readonly options: ExecutorOptions) {
    this.now = options.now ?? Date.now;
  }

  async run(id: string, signal: AbortSignal, write: WriteOptions = {}): Promise<void> {
    const { store, registry } = this.options;
    // Every model call of the analysis listens to its signal: a dozen models
    // are no leak, and must not print Node's listener-leak warning.
    setMaxListeners(0, signal);
    const stored = await store.get(id);
    if (!stored || TERMINAL_STATUSES.has(stored.record.status)) return;
    const { job } = stored;
    const settingsFor = (modelId: string): CallSettings =>
      job.settings?.[modelId] ?? adaptSettings(registry.get(modelId)!, job.options).settings;
    const trace = this.options.tracing?.startAnalysis({
      record: stored.record,
      job,
      describe: (modelId) => {
        const model = registry.get(modelId);
        const settings = settingsFor(modelId);
        return {
          provider: model?.provider ?? modelId.split('/')[0]!,
          model: model?.model ?? modelId,
          temperature: settings.temperature,
          maxTokens: settings.maxTokens,
        };
      },
    });
    try {
      await this.#run(stored, signal, write, settingsFor, trace);
    } finally {
      // Ended before the terminal event is written on the usual paths; here for the others.
      trace?.end({ status: 'interrupted' });
    }
  }

  async #run(
    stored: StoredAnalysis,
    signal: AbortSignal,
    write: WriteOptions,
    settingsFor: (modelId: string) => CallSettings,
    trace: AnalysisTrace | undefined,
  ): Promise<void> {
    const { registry, caller, logger } = this.options;
    const { job } = stored;
    const id = stored.record.id;
    const observe = this.options.observe;
    const log = new JobLog(
      this.options.store,
      stored.record,
      {
        ttlSeconds: this.options.ttlSeconds,
        now: this.now,
        maxEventBytes: this.options.maxEventBytes,
        readers: readersOf(trace?.onEvent, observe && ((event) => observe(job, event))),
      },
      write,
    );
    const emit = log.emit;
    const record = stored.record;
    const completed = new Map<string, CompletedStage>();
    if (record.status === 'running') {
      const fromStage = completedStages(record, completed);
      emit({
        type: 'analysis.resumed',
        data: { fromStage, reason: 'The worker running this analysis stopped; another worker took it over.' },
      });
    } else {
      emit({
        type: 'analysis.started',
        data: { pattern: record.pattern, models: record.models, synthesisModel: record.synthesisModel },
      });
    }
    let end: PatternRunEnd;
    let council: CouncilRanking | undefined;
    try {
      end = await runPattern({
        pattern: job.pattern,
        job: withConversation(job, record),
        models: record.models,
        spentUsd: () => log.record.usage.costUsd,
        fallbackOrder: fallbackOrder(registry, record),
        settingsFor,
        caller: trace ? trace.wrap(caller) : caller,
        emit,
        signal,
        completed,
        afterStage: (stage, outputs, inputs) => {
          if (stage.parse === 'ranking') council = rankCouncil(outputs, inputs);
        },
      });
      await log.flush();
    } catch (error) {
      if (error instanceof LostOwnership || signal.reason === HANDOFF) {
        trace?.end({ status: 'handed-off' });
        return;
      }
      // Not the analysis's fault, and nothing can be written now: the queue resumes it later.
      if (isStoreUnavailable(error)) throw toStoreError(error);
      logger.error({ err: error, analysisId: id }, 'analysis failed unexpectedly');
      end = { status: 'failed', error: { code: 'internal', message: 'The analysis failed unexpectedly.' } };
    }
    if (signal.aborted && signal.reason === HANDOFF) {
      trace?.end({ status: 'handed-off' });
      return;
    }
    if (signal.aborted && signal.reason === SHUTDOWN) {
      end = {
        status: 'failed',
        error: {
          code: 'shutdown',
          message: 'The service shut down before the analysis finished: submit it again.',
        },
      };
    }
    // Every span has ended before the terminal event is written: a reader of that event sees the whole trace.
    trace?.end(end.status === 'failed' ? { status: 'failed', error: end.error } : { status: end.status });
    if (end.status === 'cancelled') return; // the cancel wrote the terminal state
    if (end.status === 'succeeded') {
      await this.finish(log.record, { status: 'succeeded', result: withRanking(end.result, council) }, write);
    } else await this.finish(log.record, end, write);
  }

  /**
   * Writes the terminal event once; the record it leaves (its reduction) is
   * written with it, and answered — undefined when the analysis had already
   * ended (another writer got there first).
   */
  async finish(
    record: AnalysisRecord,
    end: PatternRunEnd | { status: 'failed'; error: JobErrorInfo },
    write: WriteOptions = {},
  ): Promise<AnalysisRecord | undefined> {
    if (TERMINAL_STATUSES.has(record.status)) return undefined;
    const at = this.now();
    const event: AnalysisEventPayload =
      end.status === 'succeeded'
        ? { type: 'analysis.completed', data: { ...record, result: end.result } }
        : end.status === 'cancelled'
          ? { type: 'analysis.cancelled', data: {} }
          : { type: 'analysis.failed', data: { error: end.error } };
    const final = reduce(record, event, at, { ttlSeconds: this.options.ttlSeconds });
    // Settled before the end is told: whoever sees the terminal event sees the key's budget settled.
    await this.options.beforeEnd?.(record.id);
    // The contract's completion event carries the final record itself.
    const stored = await this.options.store.append(
      record.id,
      event.type === 'analysis.completed' ? { type: event.type, data: final } : event,
      { ...write, record: final, at },
    );
    if (!stored) return undefined;
    this.options.store.retain(record.id);
    this.options.onEnded?.(final);
    return final;
  }
}

/**
 * The run request with the record's conversation: the turns before the last
 * as history, system turns joined to the system prompt. A record from before
 * conversations (no `messages`) runs as its prompt alone.
 */
function withConversation(job: AnalysisJob, record: AnalysisRecord): AnalysisJob {
  if (!record.messages || record.messages.length < 2) return job;
  const turns = modelTurns(record.messages, job.system);
  return { ...job, system: turns.system, history: turns.history };
}

/**
 * Resume: the outputs of the stages a previous worker completed, by stage
 * name, and the stage to start from (the one it was in starts over).
 */
function completedStages(record: AnalysisRecord, completed: Map<string, CompletedStage>): string {
  let previous: StageOutput[] = [];
  for (const stage of record.stages) {
    if (stage.status === 'succeeded') {
      previous = stage.responses
        .filter((response) => response.status === 'succeeded' && response.text !== null)
        .map((response) => ({ model: response.model, text: response.text! }));
      completed.set(stage.name, { status: 'succeeded', outputs: previous });
    } else if (stage.status === 'skipped')
      completed.set(stage.name, { status: 'skipped', outputs: previous });
    else return stage.name;
  }
  return record.stages[0]?.name ?? '';
}

/** The in-process readers a run has: none is a list of none, so the log's hot path checks once. */
function readersOf(
  ...readers: Array<((event: AnalysisEventPayload) => void) | undefined>
): Array<(event: AnalysisEventPayload) => void> | undefined {
  const present = readers.filter((read) => read !== undefined);
  return present.length > 0 ? present : undefined;
}
