import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { pino } from 'pino';
import type { Config } from './config/index.js';
import { createEngine, type Engine, type EngineOptions } from './engine.js';
import { registerJsonBody, zodValidatorCompiler } from './http/body-validation.js';
import { ApiKeyAuth } from './http/plugins/auth.js';
import { AuthFailureLimiter } from './http/plugins/auth-failures.js';
import { closeHooksTimeoutMs, registerDraining } from './http/plugins/draining.js';
import { registerErrorHandling } from './http/plugins/errors.js';
import { sendProblem, toPointer, UNAVAILABLE_RETRY_AFTER_SECONDS } from './http/problem.js';
import { clientErrorHandler, frameworkErrors, REQUEST_ID, requireHost } from './http/protocol-errors.js';
import { analysisRoutes } from './http/routes/analyses.js';
import { analysisEventRoutes } from './http/routes/analysis-events.js';
import { healthRoutes } from './http/routes/health.js';
import { modelRoutes } from './http/routes/models.js';
import { patternRoutes } from './http/routes/patterns.js';
import { loggerOptions, SERIALIZERS } from './logger.js';

export interface AppOptions extends EngineOptions {
  config: Config;
  /** A pino instance (tests pass a silent one or one writing to a buffer). */
  logger?: pino.Logger;
  /** The clock of the HTTP layer's time windows (failed authentication); tests pass a fake one. */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    chorus: Engine;
  }
}

/** Builds the whole service as a Fastify instance; `server.ts` and the tests both use it. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    // Whatever logger is passed in, request lines and errors go through our serializers (no
    // stream tokens in URLs, no credentials in a URL of an error): set once, every child inherits them.
    ...(options.logger
      ? {
          loggerInstance: options.logger.child(
            {},
            { serializers: SERIALIZERS },
          ) as unknown as FastifyBaseLogger,
        }
      : { logger: loggerOptions(config.LOG_LEVEL) }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // The drain runs in a close hook: Fastify's own 503 (bare JSON) is replaced by ours.
    pluginTimeout: closeHooksTimeoutMs(config.SHUTDOWN_GRACE_MS),
    return503OnClosing: false,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { maxParamLength: 500 },
    frameworkErrors,
    clientErrorHandler,
    // A client has REQUEST_TIMEOUT_MS to send its whole request (a body dribbled a byte at a
    // time is cut off with a 408); the check runs often enough for the limit to hold.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout: Math.min(config.REQUEST_TIMEOUT_MS, 60_000),
      connectionsCheckingInterval: Math.min(30_000, Math.max(25, Math.floor(config.REQUEST_TIMEOUT_MS / 10))),
      requireHostHeader: false,
    },
  });
  app.addHook('onRequest', requireHost);

  const engine = await createEngine(config, app.log, options);
  const { service, store, registry, catalog, caller, metrics, tokens } = engine;
  app.decorate('chorus', engine);
  app.decorateRequest('owner', '');

  // zod validates input; responses are plain JSON (records are built to their schema and tested for it).
  app.setValidatorCompiler(zodValidatorCompiler(config.MAX_VALIDATION_ERRORS));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerJsonBody(app);

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerErrorHandling(app);
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

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Chorus',
        version: '0.1.0',
        description:
          'Runs one question through several large language models at once and turns their answers into one better answer. Errors are application/problem+json (RFC 9457).',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS (when set).' },
          streamToken: {
            type: 'apiKey',
            in: 'query',
            name: 'token',
            description: 'The token in links.events.',
          },
        },
      },
      tags: [
        { name: 'analyses', description: 'Start, follow and manage analyses' },
        { name: 'patterns', description: 'The analysis patterns' },
        { name: 'models', description: 'The configured models' },
        { name: 'operations', description: 'Health and readiness' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes, { store });
  metrics.register(app);

  const auth = new ApiKeyAuth(
    config.API_KEYS,
    new AuthFailureLimiter({ maxFailures: config.AUTH_FAILURES_PER_MINUTE, now: options.now }),
  );
  // A worker answers only /healthz, /readyz and /metrics, for probes.
  if (config.ROLE !== 'worker')
    await app.register(async (v1) => {
      v1.addHook(
        'onRequest',
        auth.hook((request) => request.routeOptions.url === '/v1/analyses/:id/events'),
      );
      if (config.RATE_LIMIT_PER_MINUTE) {
        await v1.register(rateLimit, {
          max: config.RATE_LIMIT_PER_MINUTE,
          timeWindow: 60_000,
          hook: 'preParsing',
          keyGenerator: (request) => request.owner || request.ip,
          errorResponseBuilder: (_request, context) =>
            Object.assign(new Error(`Rate limit of ${context.max} requests per minute reached.`), {
              statusCode: 429,
              retryAfterSeconds: Math.ceil(context.ttl / 1000),
            }),
        });
      }
      v1.setErrorHandler(
        (error: Error & { statusCode?: number; retryAfterSeconds?: number }, request, reply) => {
          if (error.statusCode === 429 && error.retryAfterSeconds !== undefined) {
            return sendProblem(
              request,
              reply,
              'rateLimited',
              `${error.message} Retry after ${error.retryAfterSeconds} s.`,
              {
                headers: { 'retry-after': String(error.retryAfterSeconds) },
              },
            );
          }
          throw error;
        },
      );
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

  app.addHook('onClose', async () => {
    await engine.close();
  });
  if (!auth.enabled) app.log.debug('authentication is off');
  return app;
}
