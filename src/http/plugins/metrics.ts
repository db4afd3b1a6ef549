import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobQueue } from '../../analyses/queue.js';
import type { ModelRegistry } from '../../models/registry.js';
import type { CallObserver, ResilientModelCaller } from '../../models/resilient-caller.js';
import type { Usage } from '../../providers/spec.js';

const CIRCUIT_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

/** Prometheus metrics of one app instance (its own registry, so several apps can live in one process). */
export class Metrics implements CallObserver {
  readonly registry = new Registry();
  private readonly httpDuration = new Histogram({
    name: 'chorus_http_request_duration_seconds',
    help: 'HTTP request durations by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60],
    registers: [this.registry],
  });
  private readonly analysesFinished = new Counter({
    name: 'chorus_analyses_finished_total',
    help: 'Analyses that ended, by final status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  private readonly modelCalls = new Histogram({
    name: 'chorus_model_call_duration_seconds',
    help: 'Model call attempts by model and outcome (success, failure, cancelled).',
    labelNames: ['model', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'chorus_model_retries_total',
    help: 'Model call retries by model and the error code that caused them.',
    labelNames: ['model', 'code'] as const,
    registers: [this.registry],
  });
  private readonly cacheHits = new Counter({
    name: 'chorus_cache_hits_total',
    help: 'Model calls answered from the response cache.',
    registers: [this.registry],
  });
  private readonly cacheMisses = new Counter({
    name: 'chorus_cache_misses_total',
    help: 'Cacheable model calls not found in the response cache.',
    registers: [this.registry],
  });

  private readonly keyCost = new Counter({
    name: 'chorus_key_cost_usd_total',
    help: 'What model calls cost, in US dollars, by API key name and model.',
    labelNames: ['key', 'model'] as const,
    registers: [this.registry],
  });
  private readonly keyTokens = new Counter({
    name: 'chorus_key_tokens_total',
    help: 'Tokens of model calls by API key name, model and direction (input, output).',
    labelNames: ['key', 'model', 'direction'] as const,
    registers: [this.registry],
  });

  /** A model call ended: its tokens and cost, counted for the key (by name, never the key) and model. */
  charged(key: string, model: string, usage: Usage, costUsd: number): void {
    this.keyCost.inc({ key, model }, costUsd);
    this.keyTokens.inc({ key, model, direction: 'input' }, usage.inputTokens);
    this.keyTokens.inc({ key, model, direction: 'output' }, usage.outputTokens);
  }

  attemptFinished(modelId: string, outcome: 'success' | 'failure' | 'cancelled', seconds: number): void {
    this.modelCalls.observe({ model: modelId, outcome }, seconds);
  }

  retried(modelId: string, code: string): void {
    this.retries.inc({ model: modelId, code });
  }

  cache(hit: boolean): void {
    (hit ? this.cacheHits : this.cacheMisses).inc();
  }

  analysisFinished(status: string): void {
    this.analysesFinished.inc({ status });
  }

  /** Gauges read when scraped: queue depth, running analyses, breaker states, limiter queues. */
  watch(queue: JobQueue, registry: ModelRegistry, caller: ResilientModelCaller): void {
    new Gauge({
      name: 'chorus_queue_depth',
      help: 'Analyses waiting to start in this process.',
      registers: [this.registry],
      collect() {
        this.set(queue.depth().queued);
      },
    });
    new Gauge({
      name: 'chorus_analyses_running',
      help: 'Analyses running in this process.',
      registers: [this.registry],
      collect() {
        this.set(queue.depth().running);
      },
    });
    new Gauge({
      name: 'chorus_circuit_state',
      help: 'Circuit breaker state per model: 0 closed, 1 half-open, 2 open.',
      labelNames: ['model'] as const,
      registers: [this.registry],
      collect() {
        for (const model of registry.list())
          this.set({ model: model.id }, CIRCUIT_VALUE[caller.circuit(model.id)]);
      },
    });
    new Gauge({
      name: 'chorus_limiter_queue_depth',
      help: 'Model calls waiting for a provider slot or rate-limit token.',
      labelNames: ['provider'] as const,
      registers: [this.registry],
      collect() {
        for (const name of registry.providers.keys())
          this.set({ provider: name }, caller.limiter(name)?.queued ?? 0);
      },
    });
  }

  register(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      this.httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unknown',
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
    app.get(
      '/metrics',
      { schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)', hide: false } },
      async (_request, reply) => {
        reply.type(this.registry.contentType);
        return this.registry.metrics();
      },
    );
  }
}

/** `/metrics` and the request-duration histogram, for every route of the app. */
export const metricsPlugin = fp<{ metrics: Metrics }>(async (app, options) => options.metrics.register(app), {
  name: 'chorus-metrics',
});
