import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from './config/index.js';
import { createEngine, type Engine, type EngineOptions } from './engine.js';
import { anthropicSurface } from './http/anthropic/routes.js';
import { analysisLinks } from './http/links.js';
import { analysisRoutes } from './http/native/analyses.js';
import { analysisEventRoutes } from './http/native/analysis-events.js';
import { estimateRoutes } from './http/native/estimate.js';
import { healthRoutes } from './http/native/health.js';
import { modelRoutes } from './http/native/models.js';
import { patternRoutes } from './http/native/patterns.js';
import { usageRoutes } from './http/native/usage.js';
import { openAISurface } from './http/openai/routes.js';
import { accessLog } from './http/plugins/access-log.js';
import { ApiKeyAuth, apiKeyAuth } from './http/plugins/auth.js';
import { AuthFailureLimiter } from './http/plugins/auth-failures.js';
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
    /** The API keys in force; `replace` swaps them (KEYS_FILE reloaded on SIGHUP). */
    apiKeys: ApiKeyAuth;
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
  const auth = new ApiKeyAuth(
    config.keys,
    new AuthFailureLimiter({ maxFailures: config.AUTH_FAILURES_PER_MINUTE, now: options.now }),
  );
  app.decorate('apiKeys', auth);
  app.addHook('onClose', async () => engine.close());

  await app.register(problemDetails, { maxValidationErrors: config.MAX_VALIDATION_ERRORS });
  await app.register(accessLog);
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
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    exposedHeaders: [
      'location',
      'x-request-id',
      'preference-applied',
      'retry-after',
      'idempotent-replayed',
      'vary',
      'chorus-analysis-id',
    ],
  });
  await app.register(openApi);
  await app.register(healthRoutes, { store });
  await app.register(metricsPlugin, { metrics });

  // A worker answers only /healthz, /readyz and /metrics, for probes.
  if (config.ROLE === 'worker') return;
  /** The same keys and rate limits for every surface, each in its own scope. */
  const guard =
    (allowToken: (request: FastifyRequest) => boolean = () => false) =>
    async (scope: FastifyInstance) => {
      await scope.register(apiKeyAuth, { auth, allowToken });
      await scope.register(perKeyRateLimit, { perMinute: config.RATE_LIMIT_PER_MINUTE });
    };
  const chat = { service, store, catalog, registry, open: openStreams };
  await app.register(openAISurface, { prefix: '/openai/v1', ...chat, guard: guard() });
  await app.register(anthropicSurface, { prefix: '/anthropic/v1', ...chat, guard: guard() });
  await app.register(async (v1) => {
    await guard((request) => request.routeOptions.url === '/v1/analyses/:id/events')(v1);
    await v1.register(analysisRoutes, { service });
    await v1.register(estimateRoutes, { service });
    await v1.register(usageRoutes, { budgets: engine.budgets, auth, now: options.now });
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
      registry,
      previewLimits: {
        maxInputBytes: config.MAX_ANALYSIS_INPUT_BYTES,
        maxMetadataBytes: config.MAX_METADATA_BYTES,
        maxPreviewBytes: config.MAX_PREVIEW_BYTES,
      },
      maxPatternBytes: config.MAX_PATTERN_BYTES,
      maxErrors: config.MAX_VALIDATION_ERRORS,
    });
    await v1.register(modelRoutes, { registry, health: caller });
  });
}

export const chorusApp = fp(chorus, { name: 'chorus' });
