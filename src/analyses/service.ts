import { createHash } from 'node:crypto';
import type { ModelRegistry } from '../models/registry.js';
import { canonicalJson } from '../models/resilience/response-cache.js';
import { adaptSettings, type CallSettings } from '../models/settings.js';
import type { PatternCatalog } from '../orchestration/catalog.js';
import type { RunOptions } from '../orchestration/events.js';
import type { Budgets } from './budget/budgets.js';
import { type ConversationMessage, followUp } from './conversation.js';
import { ServiceError } from './errors.js';
import { type AnalysisEstimate, estimateAnalysis } from './estimate.js';
import { TERMINAL_EVENTS } from './events.js';
import type { AnalysisExecutor } from './executor.js';
import { newAnalysisId } from './ids.js';
import { checkInputBudget, checkRenderedPrompt, type InputLimits } from './input-budget.js';
import type { AnalysisJob } from './job.js';
import { checkAllowed, type KeyPolicy } from './key-policy.js';
import type { OutputLengths } from './output-lengths.js';
import type { JobQueue } from './queue.js';
import { type AnalysisRecord, newRecord, TERMINAL_STATUSES } from './record.js';
import { selectForRequest } from './selection.js';
import type { AnalysisStore, ListQuery } from './store/store.js';
import type { TraceCarrier } from './tracing/tracing.js';
import type { Webhooks } from './webhooks/webhooks.js';

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
  webhook?: { url: string } | undefined;
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
  /** Webhook checks and deliveries; undefined when WEBHOOK_SECRET is not set. */
  webhooks?: Webhooks | undefined;
  /** Keys' budgets: admission reserves an analysis's worst case. */
  budgets: Budgets;
  /** Output lengths seen per model: what an estimate's `expected` assumes. */
  lengths: OutputLengths;
}

/** What the request that submits an analysis passes on besides its input. */
export interface SubmitContext {
  /** The caller's key: its allowed models and patterns, its budget (none when auth is off). */
  key?: KeyPolicy | undefined;
  /** The request's trace context: the analysis's spans join its trace. */
  trace?: TraceCarrier | undefined;
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
    /** The caller's key (its allowed models and patterns, its budget) and the request's trace. */
    context: SubmitContext = {},
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
      const record = await this.create(owner, input, context);
      if (idempotencyKey !== undefined)
        await this.store.completeIdempotencyKey(owner, idempotencyKey, record.id);
      return { record, created: true };
    } catch (error) {
      if (idempotencyKey !== undefined) await this.store.releaseIdempotencyKey(owner, idempotencyKey);
      throw error;
    }
  }

  /**
   * What an analysis would be: its pattern, models and settings, checked
   * against what the key may use, and its estimate. No model is called.
   */
  private async resolve(owner: string, input: CreateAnalysisInput, key: KeyPolicy | undefined) {
    const { registry, catalog } = this.options;
    const patternName = input.pattern ?? 'standard';
    const pattern = await catalog.get(owner, patternName);
    if (!pattern) {
      const available = await catalog.available(owner);
      throw new ServiceError('unprocessable', `Pattern "${patternName}" does not exist.`, {
        errors: [{ path: '/pattern', message: `Unknown pattern. Available patterns: ${available}.` }],
      });
    }
    // {{prompt}} is the last user turn of the conversation.
    const prompt = input.messages?.at(-1)?.content ?? input.prompt ?? '';
    checkRenderedPrompt(pattern, prompt, this.options.inputLimits);
    // A pattern's defaults (a named panel) apply when the request names no models.
    const panel = input.models === undefined ? pattern.defaults : undefined;
    const selection = selectForRequest(
      registry,
      input.models ?? panel?.models,
      input.synthesisModel ?? panel?.synthesisModel,
    );
    checkAllowed(key, pattern.name, [...selection.models, selection.synthesisModel]);
    const options = { ...pattern.defaults?.options, ...input.options };
    const estimate = estimateAnalysis(registry, this.options.lengths, {
      pattern,
      models: selection.models,
      synthesisModel: selection.synthesisModel,
      prompt,
      system: input.system,
      options,
    });
    return { pattern, selection, options, estimate };
  }

  /** The estimate of an analysis (`POST /v1/analyses/estimate`): nothing is stored or called. */
  async estimate(owner: string, input: CreateAnalysisInput, key?: KeyPolicy): Promise<AnalysisEstimate> {
    checkInputBudget(input, this.options.inputLimits);
    return (await this.resolve(owner, input, key)).estimate;
  }

  /** Creates and enqueues an analysis; answers the record as accepted (queued). */
  private async create(
    owner: string,
    input: CreateAnalysisInput,
    context: SubmitContext,
  ): Promise<AnalysisRecord> {
    const { registry } = this.options;
    const { key } = context;
    const { pattern, selection, options, estimate } = await this.resolve(owner, input, key);
    if (input.webhook) await this.checkWebhook(input.webhook.url);
    if (!(await this.options.queue.hasRoom())) {
      throw new ServiceError('unavailable', QUEUE_FULL, { retryAfterSeconds: 5 });
    }
    // Each model's settings are adapted once, here: the run uses them as they are.
    const warnings: string[] = [];
    const settings: Record<string, CallSettings> = {};
    for (const modelId of new Set([...selection.models, selection.synthesisModel])) {
      const adapted = adaptSettings(registry.get(modelId)!, options);
      settings[modelId] = adapted.settings;
      warnings.push(...adapted.warnings);
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
      webhook: input.webhook,
      estimate,
    });
    // The worst case is reserved against the key's budget (402 when it does not fit); the run
    // may then never cost more than was reserved.
    const { budgets } = this.options;
    const admitted = await budgets.admit(key, id, estimate.costUsd.max);
    const budgetWindow = admitted?.window;
    // A run that would take more than what is left of the budget stops with budget_exceeded
    // (free models cannot spend: their runs are left alone).
    const runOptions =
      admitted === undefined || estimate.costUsd.max === 0
        ? options
        : {
            ...options,
            maxCostUsd: Math.min(options.maxCostUsd ?? admitted.mayCostUsd, admitted.mayCostUsd),
          };
    // The conversation lives in the record; the job keeps only the last user turn it needs to render templates.
    const job: AnalysisJob = {
      id,
      owner,
      prompt: messages.at(-1)!.content,
      system: input.system,
      options: runOptions,
      pattern,
      settings,
      budgetWindow,
      trace: context.trace,
    };
    let queued = false;
    try {
      await this.store.insert(record, job);
      await this.store.append(id, { type: 'analysis.queued', data: {} });
      queued = await this.options.queue.enqueue(id);
      if (!queued) await this.store.delete(id);
    } finally {
      if (!queued && key && budgetWindow !== undefined) await budgets.cancelAdmission(key, budgetWindow, id);
    }
    if (!queued) throw new ServiceError('unavailable', QUEUE_FULL, { retryAfterSeconds: 5 });
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

  /**
   * The analysis if it exists and belongs to `owner`: the reduction of its
   * events, with its webhook's delivery attempts (a log of their own) shown.
   */
  async get(owner: string, id: string): Promise<AnalysisRecord | undefined> {
    const stored = await this.store.get(id);
    if (!stored || stored.job.owner !== owner) return undefined;
    const { record } = stored;
    const log = this.options.webhooks?.log;
    if (!record.webhook || !log || !TERMINAL_STATUSES.has(record.status)) return record;
    const deliveries = await log.list(id);
    return deliveries.length === 0 ? record : { ...record, webhook: { ...record.webhook, deliveries } };
  }

  /** A webhook URL is refused (422 at /webhook/url) for its form, its scheme or where it resolves. */
  private async checkWebhook(url: string): Promise<void> {
    const webhooks = this.options.webhooks;
    const problem = webhooks
      ? await webhooks.check(url)
      : 'Webhooks are not enabled on this server: set WEBHOOK_SECRET (a whsec_… secret) to enable them.';
    if (problem !== undefined) {
      throw new ServiceError('unprocessable', problem, {
        errors: [{ path: '/webhook/url', message: problem }],
      });
    }
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
