import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { pino } from 'pino';
import type { z } from 'zod';
import { AnalysisService } from './analyses/service.js';
import { MemoryStore } from './analyses/store/memory-store.js';
import type { AnalysisStore } from './analyses/store/store.js';
import { StreamTokens } from './analyses/stream-tokens.js';
import type { Config } from './config/index.js';
import { ApiKeyAuth } from './http/plugins/auth.js';
import { registerErrorHandling } from './http/plugins/errors.js';
import { Metrics } from './http/plugins/metrics.js';
import { sendProblem, toPointer } from './http/problem.js';
import { analysisRoutes } from './http/routes/analyses.js';
import { analysisEventRoutes } from './http/routes/analysis-events.js';
import { healthRoutes } from './http/routes/health.js';
import { modelRoutes } from './http/routes/models.js';
import { patternRoutes } from './http/routes/patterns.js';
import { loggerOptions, requestSerializer } from './logger.js';
import { createModelCaller } from './models/create-caller.js';
import { ModelRegistry, type ProviderFactory } from './models/registry.js';
import type { ResilientCallerOptions, ResilientModelCaller } from './models/resilient-caller.js';
import { PatternCatalog } from './orchestration/catalog.js';
import type { PatternDefinition } from './orchestration/patterns/types.js';
import { PROVIDER_FACTORIES } from './providers/index.js';

export interface AppOptions {
  config: Config;
  /** A pino instance (tests pass a silent one or one writing to a buffer). */
  logger?: pino.Logger;
  providerFactories?: Readonly<Record<string, ProviderFactory>>;
  store?: AnalysisStore;
  patterns?: readonly PatternDefinition[];
  heartbeatMs?: number;
  /** Resilience settings (tests shorten back-offs and breaker windows). */
  caller?: Partial<ResilientCallerOptions>;
}

export interface Chorus {
  caller: ResilientModelCaller;
  metrics: Metrics;
  service: AnalysisService;
  store: AnalysisStore;
  registry: ModelRegistry;
  catalog: PatternCatalog;
}

declare module 'fastify' {
  interface FastifyInstance {
    chorus: Chorus;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface ValidationIssue {
  instancePath: string;
  message: string;
  keyword: string;
  schemaPath: string;
  params: Record<string, unknown>;
}

/** Builds the whole service as a Fastify instance; `server.ts` and the tests both use it. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    ...(options.logger
      ? { loggerInstance: options.logger as unknown as FastifyBaseLogger }
      : { logger: loggerOptions(config.LOG_LEVEL) }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { maxParamLength: 500 },
    // Whatever logger is passed in, request lines go through our serializer (no stream tokens in URLs).
    childLoggerFactory: (logger, bindings, childOptions) =>
      logger.child(bindings, {
        ...childOptions,
        serializers: { ...childOptions.serializers, req: requestSerializer },
      }),
  });

  const registry = new ModelRegistry(config.providers, options.providerFactories ?? PROVIDER_FACTORIES);
  const store =
    options.store ??
    new MemoryStore({ ttlSeconds: config.ANALYSIS_TTL_SECONDS, maxRetained: config.MAX_RETAINED_ANALYSES });
  const catalog = new PatternCatalog(options.patterns ?? []);
  const tokens = new StreamTokens(config.STREAM_TOKEN_SECRET);
  const metrics = new Metrics();
  const caller = createModelCaller(registry, app.log, metrics, options.caller);
  const service = new AnalysisService({
    store,
    registry,
    catalog,
    caller,
    tokens,
    logger: app.log,
    concurrency: config.JOB_CONCURRENCY,
    queueMax: config.QUEUE_MAX,
    ttlSeconds: config.ANALYSIS_TTL_SECONDS,
  });
  metrics.watch(service, registry, caller);
  service.onFinished((status) => metrics.analysisFinished(status));
  app.decorate('chorus', { service, store, registry, catalog, caller, metrics });
  app.decorateRequest('owner', '');

  // zod validates input; responses are plain JSON (records are built to their schema and tested for it).
  app.setValidatorCompiler(({ schema }) => (data) => {
    const result = (schema as z.ZodType).safeParse(data);
    if (result.success) return { value: result.data };
    return {
      error: result.error.issues.flatMap((issue): ValidationIssue[] =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({
              instancePath: toPointer([...issue.path, key]),
              message: `unknown field "${key}": remove it or check its spelling`,
              keyword: issue.code,
              schemaPath: '',
              params: {},
            }))
          : [
              {
                instancePath: toPointer(issue.path),
                message: issue.message,
                keyword: issue.code,
                schemaPath: '',
                params: {},
              },
            ],
      ),
    };
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerErrorHandling(app);

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

  const openStreams = new Set<() => void>();
  await app.register(healthRoutes, { store });
  metrics.register(app);

  const auth = new ApiKeyAuth(config.API_KEYS);
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
      open: openStreams,
    });
    await v1.register(patternRoutes, { catalog });
    await v1.register(modelRoutes, { registry, health: caller });
  });

  app.addHook('preClose', async () => {
    await service.shutdown(config.SHUTDOWN_GRACE_MS);
    for (const close of [...openStreams]) close();
  });
  app.addHook('onClose', async () => {
    await caller.close();
    await store.close();
  });
  if (!auth.enabled) app.log.debug('authentication is off');
  return app;
}
