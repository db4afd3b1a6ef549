import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { pino } from 'pino';
import type { z } from 'zod';
import type { Config } from './config/index.js';
import { createEngine, type Engine, type EngineOptions } from './engine.js';
import { ApiKeyAuth } from './http/plugins/auth.js';
import { closeHooksTimeoutMs, registerDraining } from './http/plugins/draining.js';
import { registerErrorHandling } from './http/plugins/errors.js';
import { sendProblem, toPointer, UNAVAILABLE_RETRY_AFTER_SECONDS } from './http/problem.js';
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
  heartbeatMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    chorus: Engine;
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
    // Malformed URLs never reach a route: answer them as problems too.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        return sendProblem(request, reply, 'uriTooLong', 'A path segment is longer than this API accepts.');
      }
      if (error.code === 'FST_ERR_BAD_URL') {
        return sendProblem(request, reply, 'validation', 'The path is not valid percent-encoding.');
      }
      return sendProblem(request, reply, 'validation', 'The request could not be routed.');
    },
  });

  const engine = await createEngine(config, app.log, options);
  const { service, store, registry, catalog, caller, metrics, tokens } = engine;
  app.decorate('chorus', engine);
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
  // An empty body with a JSON content type (some clients send one with every POST) counts as no body.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    parseJson(request, body as string, done);
  });

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

  const auth = new ApiKeyAuth(config.API_KEYS);
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
        open: openStreams,
      });
      await v1.register(patternRoutes, { catalog });
      await v1.register(modelRoutes, { registry, health: caller });
    });

  app.addHook('onClose', async () => {
    await engine.close();
  });
  if (!auth.enabled) app.log.debug('authentication is off');
  return app;
}
