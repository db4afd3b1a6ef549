import type { FastifyBaseLogger } from 'fastify';
import type { GenerateResult } from '../providers/spec.js';
import {
  type ModelCall,
  type ModelCaller,
  type ModelCallHooks,
  type ModelCallOutcome,
  runAttempt,
} from './call-model.js';
import { ModelError, toCallError } from './errors.js';
import type { ModelHealth } from './health.js';
import type { ModelRegistry, RegisteredModel } from './registry.js';
import { ModelBreaker, type ModelBreakerOptions } from './resilience/breaker.js';
import { Coalescer } from './resilience/coalescer.js';
import { ProviderLimiter, type SharedReservoirOptions } from './resilience/limiter.js';
import { keyFor, ResponseCache } from './resilience/response-cache.js';
import { type RetryOptions, retryWithBackoff } from './resilience/retry.js';
import { ModelStatsRegistry } from './resilience/stats.js';

/** What the caller reports, for metrics. */
export interface CallObserver {
  attemptFinished(
    modelId: string,
    outcome: 'success' | 'failure' | 'cancelled',
    seconds: number,
    code?: string,
  ): void;
  retried(modelId: string, code: string): void;
  cache(hit: boolean): void;
}

export interface ResilientCallerOptions {
  registry: ModelRegistry;
  logger: FastifyBaseLogger;
  observer?: CallObserver | undefined;
  cache?: { maxEntries: number; ttlMs: number };
  retry?: Omit<RetryOptions, 'signal' | 'onRetry'>;
  breaker?: Omit<ModelBreakerOptions, 'modelId' | 'provider'>;
  /** Concurrent calls per provider when its configuration sets none. */
  defaultConcurrency?: number;
  /** A shared (Redis) reservoir for providers with an rpm limit. */
  sharedReservoir?: (provider: string) => SharedReservoirOptions | undefined;
}

export const DEFAULT_PROVIDER_CONCURRENCY = 256;

/** The callers of one shared upstream execution, and the attempt it is on. */
interface InFlight {
  attempt: number;
  hooks: Set<ModelCallHooks>;
}

/**
 * The model call as ARCHITECTURE.md orders it: cache hit? → join an identical
 * call in flight → one retry loop → breaker open? fail fast → provider limits
 * → breaker → adapter with its own per-attempt timeout and the job's signal.
 * Cache and shared calls are scoped to the API key that asked.
 */
export class ResilientModelCaller implements ModelCaller, ModelHealth {
  readonly cache: ResponseCache;
  private readonly coalescer = new Coalescer<GenerateResult>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly limiters = new Map<string, ProviderLimiter>();
  private readonly breakers = new Map<string, ModelBreaker>();
  readonly modelStats = new ModelStatsRegistry();
  private readonly now = performance.now.bind(performance);

  constructor(private readonly options: ResilientCallerOptions) {
    this.cache = new ResponseCache(options.cache ?? { maxEntries: 1000, ttlMs: 10 * 60_000 });
    for (const [provider, limits] of options.registry.limits) {
      this.limiters.set(
        provider,
        new ProviderLimiter({
          concurrency: limits.concurrency ?? options.defaultConcurrency ?? DEFAULT_PROVIDER_CONCURRENCY,
          rpm: limits.rpm,
          shared: limits.rpm ? options.sharedReservoir?.(provider) : undefined,
        }),
      );
    }
    for (const model of options.registry.list()) {
      this.breakers.set(
        model.id,
        new ModelBreaker({ ...options.breaker, modelId: model.id, provider: model.provider }),
      );
    }
  }

  circuit(modelId: string) {
    return this.breakers.get(modelId)?.state() ?? 'closed';
  }

  stats(modelId: string) {
    return this.modelStats.snapshot(modelId);
  }

  breaker(modelId: string): ModelBreaker | undefined {
    return this.breakers.get(modelId);
  }

  limiter(provider: string): ProviderLimiter | undefined {
    return this.limiters.get(provider);
  }

  async call(call: ModelCall): Promise<ModelCallOutcome> {
    const started = this.now();
    const model = this.options.registry.get(call.modelId);
    if (!model) {
      const error = new ModelError('bad_request', `Model ${call.modelId} is not configured.`);
      return { ok: false, error, latencyMs: 0, attempts: 0 };
    }
    const key = keyFor(call.owner, model.id, {
      system: call.system,
      messages: [{ role: 'user', content: call.prompt }],
      temperature: call.settings.temperature,
      maxTokens: call.settings.maxTokens,
    });
    if (call.cache) {
      const hit = this.cache.get(key);
      this.options.observer?.cache(hit !== undefined);
      if (hit) {
        call.hooks.onAttempt(1);
        return this.success(model, hit, started, 1, true);
      }
    }
    // Calls that bypass the cache share only with each other, so they never receive a cached answer.
    const sharedKey = call.cache ? key : `fresh:${key}`;
    let joined = this.inFlight.get(sharedKey);
    if (joined) {
      joined.hooks.add(call.hooks);
      // Joining a call under way: this caller sees its current attempt start (later ones as they come).
      if (joined.attempt >= 1) call.hooks.onAttempt(joined.attempt);
    } else {
      joined = { attempt: 0, hooks: new Set([call.hooks]) };
    }
    const shared = joined;
    try {
      const result = await this.coalescer.run(
        sharedKey,
        (context) => {
          this.inFlight.set(sharedKey, shared);
          return this.execute(
            model,
            call,
            shared,
            context.signal,
            context.onDelta,
            context.onRestart,
          ).finally(() => {
            if (this.inFlight.get(sharedKey) === shared) this.inFlight.delete(sharedKey);
          });
        },
        {
          signal: call.signal,
          onDelta: (text) => call.hooks.onDelta(text, shared.attempt),
        },
      );
      if (call.cache) this.cache.set(key, result);
      return this.success(model, result, started, shared.attempt, false);
    } catch (error) {
      const failure = toCallError(error, call.signal);
      return {
        ok: false,
        error: failure,
        latencyMs: Math.round(this.now() - started),
        attempts: shared.attempt,
      };
    } finally {
      shared.hooks.delete(call.hooks);
    }
  }

  /** The shared execution: the retry loop around limiter, breaker and adapter. */
  private execute(
    model: RegisteredModel,
    call: ModelCall,
    shared: InFlight,
    signal: AbortSignal,
    onDelta: (text: string) => void,
    onRestart: () => void,
  ): Promise<GenerateResult> {
    const breaker = this.breakers.get(model.id)!;
    const limiter = this.limiters.get(model.provider)!;
    const { observer, logger } = this.options;
    return retryWithBackoff(
      (attempt, attemptSignal) => {
        if (breaker.isOpen()) throw breaker.openError();
        return limiter.schedule(
          () =>
            breaker.execute(async (breakerSignal) => {
              shared.attempt = attempt;
              for (const hooks of shared.hooks) hooks.onAttempt(attempt);
              const began = this.now();
              try {
                const result = await runAttempt(model, call, breakerSignal ?? attemptSignal, onDelta);
                this.modelStats.record(model.id, 'success', this.now() - began);
                observer?.attemptFinished(model.id, 'success', (this.now() - began) / 1000);
                return result;
              } catch (error) {
                const failure = toCallError(error, breakerSignal ?? attemptSignal);
                const outcome = failure.code === 'cancelled' ? 'cancelled' : 'failure';
                this.modelStats.record(model.id, outcome, this.now() - began);
                observer?.attemptFinished(model.id, outcome, (this.now() - began) / 1000, failure.code);
                if (outcome === 'failure') {
                  logger.warn(
                    {
                      analysisId: call.analysisId,
                      model: model.id,
                      attempt,
                      code: failure.code,
                      status: failure.status,
                      upstreamRequestId: failure.upstreamRequestId,
                      retryable: failure.retryable,
                    },
                    'model call failed',
                  );
                }
                throw failure;
              }
            }, attemptSignal),
          attemptSignal,
        );
      },
      {
        ...this.options.retry,
        signal,
        onRetry: ({ attempt, error, delayMs }) => {
          const failure = toCallError(error);
          observer?.retried(model.id, failure.code);
          for (const hooks of shared.hooks) hooks.onRetry(failure, attempt, delayMs);
          onRestart();
        },
      },
    );
  }

  private success(
    model: RegisteredModel,
    result: { text: string; usage: GenerateResult['usage'] },
    started: number,
    attempts: number,
    cached: boolean,
  ): ModelCallOutcome {
    return {
      ok: true,
      text: result.text,
      usage: cached ? { inputTokens: 0, outputTokens: 0 } : result.usage,
      costUsd: cached
        ? 0
        : this.options.registry.cost(model.id, result.usage.inputTokens, result.usage.outputTokens),
      latencyMs: Math.round(this.now() - started),
      attempts,
      cached,
    };
  }

  /** Limiter and breaker queues and timers: released on shutdown. */
  async close(): Promise<void> {
    for (const breaker of this.breakers.values()) breaker.shutdown();
    await Promise.all([...this.limiters.values()].map((limiter) => limiter.stop()));
  }
}
