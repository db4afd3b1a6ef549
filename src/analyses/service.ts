import { createHash } from 'node:crypto';
import type { ModelRegistry } from '../models/registry.js';
import { canonicalJson } from '../models/resilience/response-cache.js';
import { SelectionError, selectModels } from '../models/selector.js';
import { adaptSettings } from '../models/settings.js';
import type { PatternCatalog } from '../orchestration/catalog.js';
import type { RunOptions } from '../orchestration/events.js';
import { type ConversationMessage, followUp } from './conversation.js';
import { ServiceError } from './errors.js';
import { TERMINAL_EVENTS } from './events.js';
import type { AnalysisExecutor } from './executor.js';
import { newAnalysisId } from './ids.js';
import { checkInputBudget, type InputLimits } from './input-budget.js';
import type { AnalysisJob } from './job.js';
import type { JobQueue } from './queue.js';
import { type AnalysisRecord, newRecord, TERMINAL_STATUSES } from './record.js';
import type { AnalysisStore, ListQuery } from './store/store.js';

export interface CreateAnalysisInput {
  /** Exactly one of `prompt` and `messages` (the HTTP schema checks it). */
  prompt?: string | undefined;
  /** A conversation whose last turn is the user's. */
  messages?: ConversationMessage[] | undefined;
  /** An analysis of the same owner, succeeded, whose conversation and answer come first. */
  continueFrom?: string | undefined;
  system?: string | undefined;
  pattern?: string | undefined;
  models?: string[] | undefined;
  synthesisModel?: string | undefined;
  options?: RunOptions | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface AnalysisServiceOptions {
  store: AnalysisStore;
  registry: ModelRegistry;
  catalog: PatternCatalog;
  queue: JobQueue;
  executor: AnalysisExecutor;
  /** The links of a new analysis (the HTTP layer's: its paths and signed stream token). */
  links: (id: string, createdAtMs: number) => AnalysisRecord['links'];
  /** The byte budget of an analysis's input. */
  inputLimits: InputLimits;
}

const QUEUE_FULL = 'The analysis queue is full: retry later.';

/** The job domain: submit, read, list, cancel, delete and wait for analyses. */
export class AnalysisService {
  private readonly store: AnalysisStore;

  constructor(private readonly options: AnalysisServiceOptions) {
    this.store = options.store;
  }

  async submit(
    owner: string,
    input: CreateAnalysisInput,
    idempotencyKey?: string,
  ): Promise<{ record: AnalysisRecord; created: boolean }> {
    // Before any key is reserved: an input refused for its size never holds one.
    checkInputBudget(input, this.options.inputLimits);
    if (idempotencyKey !== undefined) {
      const fingerprint = createHash('sha256').update(canonicalJson(input)).digest('hex');
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
      const record = await this.create(owner, input);
      if (idempotencyKey !== undefined)
        await this.store.completeIdempotencyKey(owner, idempotencyKey, record.id);
      return { record, created: true };
    } catch (error) {
      if (idempotencyKey !== undefined) await this.store.releaseIdempotencyKey(owner, idempotencyKey);
      throw error;
    }
  }

  /** Creates and enqueues an analysis; answers the record as accepted (queued). */
  private async create(owner: string, input: CreateAnalysisInput): Promise<AnalysisRecord> {
    const { registry, catalog } = this.options;
    const patternName = input.pattern ?? 'standard';
    const pattern = await catalog.get(owner, patternName);
    if (!pattern) {
      const available = await catalog.available(owner);
      throw new ServiceError('unprocessable', `Pattern "${patternName}" does not exist.`, {
        errors: [{ path: '/pattern', message: `Unknown pattern. Available patterns: ${available}.` }],
      });
    }
    let selection: ReturnType<typeof selectModels>;
    try {
      // A pattern's defaults (a named panel) apply when the request names no models.
      const panel = input.models === undefined ? pattern.defaults : undefined;
      selection = selectModels(
        registry,
        input.models ?? panel?.models,
        input.synthesisModel ?? panel?.synthesisModel,
      );
    } catch (error) {
      if (error instanceof SelectionError) {
        throw new ServiceError('unprocessable', error.message, {
          errors: [{ path: error.pointer, message: error.message }],
        });
      }
      throw error;
    }
    if (!(await this.options.queue.hasRoom())) {
      throw new ServiceError('unavailable', QUEUE_FULL, { retryAfterSeconds: 5 });
    }
    const options = { ...pattern.defaults?.options, ...input.options };
    const warnings: string[] = [];
    for (const id of new Set([...selection.models, selection.synthesisModel])) {
      warnings.push(...adaptSettings(registry.get(id)!, options).warnings);
    }
    const { messages, parentId } = await this.conversationOf(owner, input);
    const id = newAnalysisId();
    const createdAt = Date.now();
    const record = newRecord({
      id,
      pattern,
      models: selection.models,
      synthesisModel: selection.synthesisModel,
      warnings,
      metadata: input.metadata ?? {},
      messages,
      parentId,
      createdAt,
      links: this.options.links(id, createdAt),
    });
    // The conversation lives in the record; the job keeps only the last user turn it needs to render templates.
    const prompt = messages.at(-1)!.content;
    const job: AnalysisJob = { id, owner, prompt, system: input.system, options, pattern };
    await this.store.insert(record, job);
    await this.store.append(id, { type: 'analysis.queued', data: {} });
    if (!(await this.options.queue.enqueue(id))) {
      await this.store.delete(id);
      throw new ServiceError('unavailable', QUEUE_FULL, { retryAfterSeconds: 5 });
    }
    return record;
  }

  /**
   * The conversation of a new analysis: its prompt as one user turn, or its
   * messages, after the conversation and answer of the analysis it follows up on.
   */
  private async conversationOf(
    owner: string,
    input: CreateAnalysisInput,
  ): Promise<{ messages: ConversationMessage[]; parentId: string | null }> {
    const own: ConversationMessage[] =
      input.messages ?? (input.prompt === undefined ? [] : [{ role: 'user', content: input.prompt }]);
    if (input.continueFrom === undefined) return { messages: own, parentId: null };
    const parent = await this.get(owner, input.continueFrom);
    if (parent?.status !== 'succeeded' || !parent.result) {
      const why = parent
        ? `it ${parent.status === 'succeeded' ? 'has no answer' : `is ${parent.status}`}`
        : 'it does not exist';
      throw new ServiceError(
        'unprocessable',
        `continueFrom names analysis ${input.continueFrom}, but ${why}: follow up only on your own succeeded analyses.`,
        {
          errors: [{ path: '/continueFrom', message: `not one of your succeeded analyses (${why})` }],
        },
      );
    }
    const messages = followUp(parent.messages ?? [], parent.result.text, own);
    checkInputBudget({ messages, system: input.system, metadata: input.metadata }, this.options.inputLimits);
    return { messages, parentId: parent.id };
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
    const ended = await this.options.executor.finish(record, { status: 'cancelled' });
    if (!ended) throw new ServiceError('conflict', `Analysis ${id} has already ended: nothing to cancel.`);
    await this.options.queue.cancel(id);
    return ended;
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

  /**
   * Resolves true when the analysis ends within `ms`; woken by its own
   * terminal event, never by polling. Stops waiting (false) when `gone` settles.
   */
  async waitForEnd(id: string, ms: number, gone?: Promise<unknown>): Promise<boolean> {
    const stored = await this.store.get(id);
    if (!stored) return false;
    if (TERMINAL_STATUSES.has(stored.record.status)) return true;
    let settle: (ended: boolean) => void = () => {};
    const ended = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const unsubscribe = await this.store.subscribe(id, (event) => {
      if (TERMINAL_EVENTS.has(event.type)) settle(true);
    });
    const timer = setTimeout(() => settle(false), ms);
    gone?.then(
      () => settle(false),
      () => settle(false),
    );
    // The analysis may have ended between the first read and the subscription.
    const current = await this.store.get(id);
    if (!current || TERMINAL_STATUSES.has(current.record.status)) settle(true);
    const result = await ended;
    clearTimeout(timer);
    unsubscribe();
    return result;
  }
}
