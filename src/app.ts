import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from './config/index.js';
import { createEngine, type Engine, type EngineOptions } from './engine.js';
import { analysisLinks } from './http/links.js';
import { analysisRoutes } from './http/native/analyses.js';
import { analysisEventRoutes } from './http/native/analysis-events.js';
import { healthRoutes } from './http/native/health.js';
import { modelRoutes } from './http/native/models.js';
import { patternRoutes } from './http/native/patterns.js';
import { apiKeyAuth } from './http/plugins/auth.js';
import { registerDraining } from './http/plugins/draining.js';
import { Metrics, metricsPlugin } from './http/plugins/metrics.js';
import { openApi } from './http/plugins/openapi.js';
import { problemDetails } from './http/plugins/problem-details.js';
import { perKeyRateLimit } from './http/plugins/rate-limit.js';
import { requestTracing } from './http/plugins/tracing.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from './http/problem.js';
import { StreamTokens } from './http/stream-tokens.js';

export interface AppOptions extends EngineOptions {
  config: Config;
  /** The clock of the HTTP layer's time windows (failed authentication); tests pass a fake one. */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    chorus: Engine;
  }
}

/**
 * The whole service as a Fastify plugin: the engine behind it, then the
 * plugins every route shares (problem details, draining, CORS, OpenAPI,
 * metrics), then the surfaces. The server it runs in — its options, its
 * logger, its socket — belongs to `server.ts`; tests register it the same way.
 */
async function chorus(app: FastifyInstance, options: AppOptions): Promise<void> {
  const { config } = options;
  const tokens = new StreamTokens(config.STREAM_TOKEN_SECRET);
  const metrics = new Metrics();
  const engine = await createEngine(config, app.log, {
    ...options,
    links: analysisLinks(tokens, config.ANALYSIS_TTL_SECONDS),
    observer: metrics,
  });
  const { service, store, registry, catalog, caller, queue } = engine;
  metrics.watch(queue, registry, caller);
  app.decorate('chorus', engine);
  app.addHook('onClose', async () => engine.close());

  await app.register(problemDetails, { maxValidationErrors: config.MAX_VALIDATION_ERRORS });
  if (engine.tracing) await app.register(requestTracing, { tracing: engine.tracing });
  // Before every other plugin and route, so each of them answers 503 while the service drains.
  const openStreams = new Set<() => void>();
  registerDraining(app, {
    drain: () => engine.shutdown(config.SHUTDOWN_GRACE_MS),
    openStreams,
    retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
  });
  await app.register(cors, {
    origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
    methods: ['GET', 'POST', 'DELETE'],
    exposedHeaders: [
      'location',
      'x-request-id',
      'preference-applied',
      'retry-after',
      'idempotent-replayed',
      'vary',
    ],
  });
  await app.register(openApi);
  await app.register(healthRoutes, { store });
  await app.register(metricsPlugin, { metrics });

  // A worker answers only /healthz, /readyz and /metrics, for probes.
  if (config.ROLE === 'worker') return;
  await app.register(async (v1) => {
    await v1.register(apiKeyAuth, {
      keys: config.API_KEYS,
      maxFailuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
      now: options.now,
      allowToken: (request) => request.routeOptions.url === '/v1/analyses/:id/events',
    });
    await v1.register(perKeyRateLimit, { perMinute: config.RATE_LIMIT_PER_MINUTE });
    await v1.register(analysisRoutes, { service });
    await v1.register(analysisEventRoutes, {
      store,
      tokens,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      retryMs: 3_000,
      maxBufferedBytes: 8 * 1024 * 1024,
      maxPerAnalysis: config.MAX_SUBSCRIBERS_PER_ANALYSIS,
      maxStreams: config.MAX_EVENT_STREAMS,
      open: openStreams,
    });
    await v1.register(patternRoutes, {
      catalog,
      maxPatternBytes: config.MAX_PATTERN_BYTES,
      maxErrors: config.MAX_VALIDATION_ERRORS,
    });
    await v1.register(modelRoutes, { registry, health: caller });
  });
}

export const chorusApp = fp(chorus, { name: 'chorus' });
