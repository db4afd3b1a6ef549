import { createHash, randomBytes } from 'node:crypto';
import type { FastifyBaseLogger as Logger } from 'fastify';
import {
  type AnalysisJob,
  type AnalysisOptions,
  type AnalysisRecord,
  type ErrorInfo,
  TERMINAL_EVENTS,
  TERMINAL_STATUSES,
} from '../domain/analysis.js';
import type { ModelCaller } from '../models/call-model.js';
import type { ModelRegistry } from '../models/registry.js';
import { fallbackOrder, SelectionError, selectModels } from '../models/selector.js';
import { adaptSettings, type CallSettings } from '../models/settings.js';
import type { PatternCatalog } from '../orchestration/catalog.js';
import { attachRanking, finishCouncil } from '../orchestration/council.js';
import { runPattern } from '../orchestration/run-pattern.js';
import { ServiceError } from './errors.js';
import { JobRunner } from './runner.js';
import type { AnalysisStore, ListQuery } from './store/store.js';
import type { StreamTokens } from './stream-tokens.js';

export interface CreateAnalysisInput {
  prompt: string;
  system?: string | undefined;
  pattern?: string | undefined;
  models?: string[] | undefined;
  synthesisModel?: string | undefined;
  options?: AnalysisOptions | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface AnalysisServiceOptions {
  store: AnalysisStore;
  registry: ModelRegistry;
  catalog: PatternCatalog;
  caller: ModelCaller;
  tokens: StreamTokens;
  logger: Logger;
  concurrency: number;
  queueMax: number;
  ttlSeconds: number;
}

const SHUTDOWN_REASON = Symbol('shutdown');
const iso = () => new Date().toISOString();

/** Canonical JSON: object keys sorted, so equal bodies give equal fingerprints. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The job domain: submit, read, list, cancel, delete and wait for analyses. */
export class AnalysisService {
  readonly runner: JobRunner;
  private readonly store: AnalysisStore;
  private readonly finishedListeners: Array<(status: string) => void> = [];

  constructor(private readonly options: AnalysisServiceOptions) {
    this.store = options.store;
    this.runner = new JobRunner(
      (id, signal) => this.execute(id, signal),
      options.concurrency,
      options.queueMax,
      (id, error) => options.logger.error({ err: error, analysisId: id }, 'analysis runner failed'),
    );
  }

  async submit(
    owner: string,
    input: CreateAnalysisInput,
    idempotencyKey?: string,
  ): Promise<{ record: AnalysisRecord; created: boolean; accepted?: string }> {
    const fingerprint = createHash('sha256').update(canonical(input)).digest('hex');
    if (idempotencyKey !== undefined) {
      const reservation = await this.store.reserveIdempotencyKey(owner, idempotencyKey, fingerprint);
      if (reservation.state !== 'new' && reservation.fingerprint !== fingerprint) {
        throw new ServiceError(
          'idempotency_mismatch',
          'This Idempotency-Key was already used with a different request body: use a new key for a new request.',
        );
      }
      if (reservation.state === 'pending') {
        throw new ServiceError(
          'idempotency_conflict',
          'A request with this Idempotency-Key is still being processed: retry in a moment.',
        );
      }
      if (reservation.state === 'done') {
        const existing = await this.store.get(reservation.analysisId);
        if (existing && existing.job.owner === owner) return { record: existing.record, created: false };
        await this.store.releaseIdempotencyKey(owner, idempotencyKey);
        await this.store.reserveIdempotencyKey(owner, idempotencyKey, fingerprint);
      }
    }
    try {
      const { record, accepted } = await this.create(owner, input);
      if (idempotencyKey !== undefined)
        await this.store.completeIdempotencyKey(owner, idempotencyKey, record.id);
      return { record, created: true, accepted };
    } catch (error) {
      if (idempotencyKey !== undefined) await this.store.releaseIdempotencyKey(owner, idempotencyKey);
      throw error;
    }
  }

  /** Creates and enqueues an analysis; `accepted` is the record as accepted (queued), serialized. */
  private async create(
    owner: string,
    input: CreateAnalysisInput,
  ): Promise<{ record: AnalysisRecord; accepted: string }> {
    const { registry, catalog } = this.options;
    const patternName = input.pattern ?? 'standard';
    const pattern = catalog.get(owner, patternName);
    if (!pattern) {
      const names = catalog.list(owner).map((item) => item.name);
      throw new ServiceError('unprocessable', `Pattern "${patternName}" does not exist.`, {
        errors: [{ path: '/pattern', message: `Unknown pattern. Available patterns: ${names.join(', ')}.` }],
      });
    }
    let selection: ReturnType<typeof selectModels>;
    try {
      selection = selectModels(registry, input.models, input.synthesisModel);
    } catch (error) {
      if (error instanceof SelectionError) {
        throw new ServiceError('unprocessable', error.message, {
          errors: [{ path: error.pointer, message: error.message }],
        });
      }
      throw error;
    }
    if (!this.runner.hasRoom()) {
      throw new ServiceError('unavailable', 'The analysis queue is full: retry later.', {
        retryAfterSeconds: 5,
      });
    }
    const options = input.options ?? {};
    const warnings: string[] = [];
    for (const id of new Set([...selection.models, selection.synthesisModel])) {
      warnings.push(...adaptSettings(registry.get(id)!, options).warnings);
    }
    const id = `an_${randomBytes(12).toString('base64url')}`;
    const createdAt = Date.now();
    const token = this.options.tokens.sign(id, createdAt + (this.options.ttlSeconds + 86_400) * 1000);
    const record: AnalysisRecord = {
      id,
      status: 'queued',
      pattern: pattern.name,
      models: selection.models,
      synthesisModel: selection.synthesisModel,
      progress: {
        stage: null,
        progress: 0,
        message: 'Queued.',
        timestamp: new Date(createdAt).toISOString(),
        details: {},
      },
      stages: pattern.stages.map((stage) => ({
        name: stage.name,
        mode: stage.mode,
        status: 'pending',
        startedAt: null,
        completedAt: null,
        reason: null,
        responses: [],
      })),
      result: null,
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
      error: null,
      warnings,
      metadata: input.metadata ?? {},
      createdAt: new Date(createdAt).toISOString(),
      startedAt: null,
      completedAt: null,
      expiresAt: null,
      links: { self: `/v1/analyses/${id}`, events: `/v1/analyses/${id}/events?token=${token}` },
    };
    const job: AnalysisJob = { id, owner, prompt: input.prompt, system: input.system, options };
    await this.store.insert(record, job);
    await this.store.append(id, { type: 'analysis.queued', data: {} });
    const accepted = JSON.stringify(record);
    if (!this.runner.enqueue(id)) {
      await this.store.delete(id);
      throw new ServiceError('unavailable', 'The analysis queue is full: retry later.', {
        retryAfterSeconds: 5,
      });
    }
    return { record, accepted };
  }

  /** The analysis if it exists and belongs to `owner`. */
  async get(owner: string, id: string): Promise<AnalysisRecord | undefined> {
    const stored = await this.store.get(id);
    return stored && stored.job.owner === owner ? stored.record : undefined;
  }

  list(owner: string, query: ListQuery) {
    return this.store.list(owner, query);
  }

  async cancel(owner: string, id: string): Promise<AnalysisRecord> {
    const record = await this.get(owner, id);
    if (!record) throw new ServiceError('not_found', `Analysis ${id} does not exist.`);
    if (TERMINAL_STATUSES.has(record.status)) {
      throw new ServiceError(
        'conflict',
        `Analysis ${id} has already ended (${record.status}): nothing to cancel.`,
      );
    }
    this.runner.dequeue(id);
    this.runner.abort(id, 'cancelled');
    await this.finish(record, 'cancelled', {
      code: 'cancelled',
      message: 'The analysis was cancelled by the client.',
    });
    return record;
  }

  async delete(owner: string, id: string): Promise<void> {
    const record = await this.get(owner, id);
    if (!record) throw new ServiceError('not_found', `Analysis ${id} does not exist.`);
    if (!TERMINAL_STATUSES.has(record.status)) {
      throw new ServiceError(
        'conflict',
        `Analysis ${id} is still ${record.status}: cancel it first, then delete it.`,
      );
    }
    await this.store.delete(id);
  }

  /** Called once per analysis that ends (metrics). */
  onFinished(listener: (status: string) => void): void {
    this.finishedListeners.push(listener);
  }

  /** Resolves true when the analysis ends within `ms`; woken by its own terminal event, never by polling. */
  async waitForEnd(id: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    const stored = await this.store.get(id);
    if (!stored) return false;
    if (TERMINAL_STATUSES.has(stored.record.status)) return true;
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const done = (ended: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(ended);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      const unsubscribe = this.store.subscribe(id, (event) => {
        if (TERMINAL_EVENTS.has(event.type)) done(true);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      // The analysis may have ended between the read and the subscription.
      if (TERMINAL_STATUSES.has(stored.record.status)) done(true);
    });
  }

  /** Runs one analysis; called by the runner. */
  private async execute(id: string, signal: AbortSignal): Promise<void> {
    const stored = await this.store.get(id);
    if (stored?.record.status !== 'queued') return;
    const { record, job } = stored;
    const { registry, catalog, caller, logger } = this.options;
    const pattern = catalog.get(job.owner, record.pattern);
    if (!pattern) {
      await this.finish(record, 'failed', {
        code: 'internal',
        message: `Pattern ${record.pattern} disappeared.`,
      });
      return;
    }
    record.status = 'running';
    record.startedAt = iso();
    const emit = this.emitter(id);
    emit({
      type: 'analysis.started',
      data: { pattern: record.pattern, models: record.models, synthesisModel: record.synthesisModel },
    });
    const settings = new Map<string, CallSettings>();
    const settingsFor = (modelId: string) => {
      let found = settings.get(modelId);
      if (!found) {
        found = adaptSettings(registry.get(modelId)!, job.options).settings;
        settings.set(modelId, found);
      }
      return found;
    };
    let end: Awaited<ReturnType<typeof runPattern>>;
    try {
      end = await runPattern({
        pattern,
        record,
        job,
        fallbackOrder: fallbackOrder(registry, record),
        settingsFor,
        caller,
        emit,
        signal,
        afterStage: (stage, outputs, inputs) => {
          if (stage.parse === 'ranking') finishCouncil(record, outputs, inputs);
        },
      });
    } catch (error) {
      logger.error({ err: error, analysisId: id }, 'analysis failed unexpectedly');
      end = { status: 'failed', error: { code: 'internal', message: 'The analysis failed unexpectedly.' } };
    }
    if (signal.aborted && signal.reason === SHUTDOWN_REASON) {
      end = {
        status: 'failed',
        error: {
          code: 'shutdown',
          message: 'The service shut down before the analysis finished: submit it again.',
        },
      };
    }
    if (end.status === 'cancelled') return; // cancel() already wrote the terminal state
    attachRanking(record);
    await this.finish(record, end.status, end.status === 'failed' ? end.error : null);
  }

  private emitter(id: string) {
    const store = this.store as AnalysisStore & { appendNow?: AnalysisStore['append'] };
    let chain: Promise<unknown> = Promise.resolve();
    return (event: Parameters<AnalysisStore['append']>[1]) => {
      if (store.appendNow) {
        store.appendNow(id, event);
        return;
      }
      chain = chain.then(() => store.append(id, event));
    };
  }

  /** Writes the terminal state once: status, times, progress and the terminal event. */
  private async finish(
    record: AnalysisRecord,
    status: 'succeeded' | 'failed' | 'cancelled',
    error: ErrorInfo | null,
  ): Promise<void> {
    if (TERMINAL_STATUSES.has(record.status)) return;
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
    await this.store.save(record);
    if (status === 'succeeded')
      await this.store.append(record.id, { type: 'analysis.completed', data: record });
    else if (status === 'cancelled')
      await this.store.append(record.id, { type: 'analysis.cancelled', data: {} });
    else await this.store.append(record.id, { type: 'analysis.failed', data: { error: error! } });
    this.store.retain(record.id);
    for (const listener of this.finishedListeners) listener(status);
  }

  /**
   * Graceful shutdown: stop accepting, let running analyses end within
   * `graceMs`, then fail what is left with `shutdown`.
   */
  async shutdown(graceMs: number): Promise<void> {
    const waiting = this.runner.stopAccepting();
    const shutdownError: ErrorInfo = {
      code: 'shutdown',
      message: 'The service shut down before the analysis started: submit it again.',
    };
    for (const id of waiting) {
      const stored = await this.store.get(id);
      if (stored) await this.finish(stored.record, 'failed', shutdownError);
    }
    if (await this.runner.drain(graceMs)) return;
    for (const id of this.runner.runningIds()) this.runner.abort(id, SHUTDOWN_REASON);
    await this.runner.drain(5_000);
  }
}
