import type { GenerateResult } from '../providers/spec.js';
import { type ExecutionContext, executeCall, type ModelRoute } from './call-execution.js';
import type { ModelCall, ModelCaller, ModelCallHooks, ModelCallOutcome } from './call-model.js';
import { buildCallRequest } from './call-request.js';
import { type CallError, ModelError, toCallError } from './errors.js';
import type { ModelHealth } from './health.js';
import type { Logger } from './logger.js';
import type { CallObserver } from './observer.js';
import type { ModelRegistry, RegisteredModel } from './registry.js';
import { ModelBreaker, type ModelBreakerOptions } from './resilience/breaker.js';
import { ProviderLimiter, type SharedReservoirOptions } from './resilience/limiter.js';
import { ResponseCache } from './resilience/response-cache.js';
import type { RetryOptions } from './resilience/retry.js';
import { ModelStatsRegistry } from './resilience/stats.js';
import { type SharedCallListener, SharedCalls } from './shared-calls.js';

export type { CallObserver } from './observer.js';

export interface ResilientCallerOptions {
  registry: ModelRegistry;
  logger: Logger;
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

/** One caller's view of a shared call: its hooks, and the last attempt it heard of. */
class CallProgress implements SharedCallListener {
  attempts = 0;
  constructor(private readonly hooks: ModelCallHooks) {}
  onAttempt(attempt: number): void {
    this.attempts = attempt;
    this.hooks.onAttempt(attempt);
  }
  onDelta(text: string, attempt: number): void {
    this.hooks.onDelta(text, attempt);
  }
  onRetry(error: CallError, attempt: number, delayMs: number): void {
    this.hooks.onRetry(error, attempt, delayMs);
  }
}

/**
 * The model call as ARCHITECTURE.md orders it: cache hit? → join an identical
 * call in flight → one retry loop → breaker open? fail fast → provider limits
 * → breaker → adapter with its own per-attempt timeout and the job's signal
 * (call-execution.ts). The request is built once; cache and shared calls are
 * keyed by it and scoped to the API key that asked.
 */
export class ResilientModelCaller implements ModelCaller, ModelHealth {
  readonly cache: ResponseCache;
  readonly shared = new SharedCalls<GenerateResult>();
  readonly modelStats = new ModelStatsRegistry();
  private readonly limiters = new Map<string, ProviderLimiter>();
  private readonly routes = new Map<string, ModelRoute>();
  private readonly context: ExecutionContext;
  private readonly now = performance.now.bind(performance);

  constructor(private readonly options: ResilientCallerOptions) {
    this.cache = new ResponseCache(options.cache ?? { maxEntries: 1000, ttlMs: 10 * 60_000 });
    this.context = {
      stats: this.modelStats,
      observer: options.observer,
      logger: options.logger,
      now: this.now,
    };
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
      this.routes.set(model.id, {
        model,
        policy: { timeoutMs: model.timeoutMs, retry: options.retry ?? {} },
        breaker: new ModelBreaker({ ...options.breaker, modelId: model.id, provider: model.provider }),
        limiter: this.limiters.get(model.provider)!,
      });
    }
  }

  circuit(modelId: string) {
    return this.routes.get(modelId)?.breaker.state() ?? 'closed';
  }

  stats(modelId: string) {
    return this.modelStats.snapshot(modelId);
  }

  breaker(modelId: string): ModelBreaker | undefined {
    return this.routes.get(modelId)?.breaker;
  }

  limiter(provider: string): ProviderLimiter | undefined {
    return this.limiters.get(provider);
  }

  async call(call: ModelCall): Promise<ModelCallOutcome> {
    const started = this.now();
    const route = this.routes.get(call.modelId);
    if (!route) {
      const error = new ModelError('bad_request', `Model ${call.modelId} is not configured.`);
      return { ok: false, error, latencyMs: 0, attempts: 0 };
    }
    const { model } = route;
    const { request, key } = buildCallRequest(model, call);
    if (call.cache) {
      const hit = this.cache.get(key);
      this.options.observer?.cache(hit !== undefined);
      if (hit) {
        call.hooks.onAttempt(1);
        return this.success(model, hit, started, 1, true);
      }
    }
    const progress = new CallProgress(call.hooks);
    const input = {
      route,
      request,
      timeoutMs: call.timeoutMs,
      analysisId: call.analysisId,
      headers: call.upstreamHeaders,
    };
    try {
      // Calls that bypass the cache share only with each other, so they never receive a cached answer.
      const result = await this.shared.run(
        call.cache ? key : `fresh:${key}`,
        (execution) => executeCall(this.context, input, execution),
        progress,
        call.signal,
      );
      if (call.cache) this.cache.set(key, result);
      return this.success(model, result, started, progress.attempts, false);
    } catch (error) {
      return {
        ok: false,
        error: toCallError(error, call.signal),
        latencyMs: Math.round(this.now() - started),
        attempts: progress.attempts,
      };
    }
  }

  private success(
    model: RegisteredModel,
    result: Pick<GenerateResult, 'text' | 'usage' | 'finishReason'>,
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
      finishReason: result.finishReason,
    };
  }

  /** Limiter and breaker queues and timers: released on shutdown. */
  async close(): Promise<void> {
    for (const route of this.routes.values()) route.breaker.shutdown();
    await Promise.all([...this.limiters.values()].map((limiter) => limiter.stop()));
  }
}
