import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ServiceError } from '../../analyses/errors.js';
import { isStoreUnavailable } from '../../analyses/store/store-errors.js';
import { registerJsonBody, zodValidatorCompiler } from '../body-validation.js';
import {
  HttpProblem,
  instanceOf,
  type ProblemFieldError,
  type ProblemKind,
  sendProblem,
  UNAVAILABLE_RETRY_AFTER_SECONDS,
} from '../problem.js';
import { requireHost } from '../protocol-errors.js';

interface ValidationIssue {
  instancePath: string;
  message?: string;
}

const STATUS_KINDS: Record<number, ProblemKind> = {
  400: 'validation',
  401: 'unauthorized',
  404: 'notFound',
  405: 'methodNotAllowed',
  406: 'notAcceptable',
  409: 'conflict',
  413: 'payloadTooLarge',
  415: 'unsupportedMediaType',
  422: 'unprocessable',
  429: 'rateLimited',
  503: 'unavailable',
};

const CONTEXT_NAMES: Record<string, string> = {
  body: 'request body',
  querystring: 'query string',
  params: 'path parameters',
  headers: 'headers',
};

/** Route patterns, to tell a 405 (known path, other method) from a 404 and to list `Allow`. */
class RouteTable {
  private readonly routes: Array<{ pattern: RegExp; method: string }> = [];

  add(url: string, methods: string | string[]): void {
    // Catch-all routes (CORS preflight `*`) say nothing about which paths exist.
    if (url === '*' || url === '/*') return;
    const source = url
      .split('/')
      .map((segment) =>
        segment.startsWith(':')
          ? '[^/]+'
          : segment === '*'
            ? '.*'
            : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    const pattern = new RegExp(`^${source}/?$`);
    for (const method of Array.isArray(methods) ? methods : [methods]) this.routes.push({ pattern, method });
  }

  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) methods.add(route.method);
    return [...methods].sort();
  }
}

export interface ProblemDetailsOptions {
  /** Most problems a 400 lists (MAX_VALIDATION_ERRORS). */
  maxValidationErrors: number;
}

/**
 * Everything about how requests are read and how failures are answered, for
 * every route of the app: the Host check, the JSON body parser, the zod
 * validator, the request id on every answer, and one error handler and one
 * not-found handler that turn every failure into problem+json (a 5xx never
 * carries a stack trace or an upstream body). The job domain's refusals
 * (ServiceError) and rate limits are mapped here too, not per route.
 */
export const problemDetails = fp<ProblemDetailsOptions>(
  async (app, options) => {
    app.addHook('onRequest', requireHost);
    // zod validates input; responses are plain JSON (records are built to their schema and tested for it).
    app.setValidatorCompiler(zodValidatorCompiler(options.maxValidationErrors));
    app.setSerializerCompiler(() => (data) => JSON.stringify(data));
    registerJsonBody(app);
    app.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    registerErrorHandling(app);
  },
  { name: 'chorus-problem-details' },
);

/** A rate limiter's refusal: how long the client should wait. */
export interface RateLimited {
  statusCode: 429;
  retryAfterSeconds: number;
}

const isRateLimited = (error: unknown): error is Error & RateLimited =>
  error instanceof Error &&
  (error as { statusCode?: unknown }).statusCode === 429 &&
  typeof (error as { retryAfterSeconds?: unknown }).retryAfterSeconds === 'number';

/** What the job domain refused, as the problem a client reads. */
export function serviceProblem(error: ServiceError): HttpProblem {
  const errors = error.details.errors ?? [];
  switch (error.kind) {
    case 'not_found':
      return new HttpProblem('notFound', error.message);
    case 'invalid':
      return new HttpProblem('validation', error.message, { errors });
    case 'too_large':
      return new HttpProblem('payloadTooLarge', error.message, { errors });
    case 'conflict':
      return new HttpProblem('conflict', error.message);
    case 'idempotency_conflict':
      return new HttpProblem('idempotencyInProgress', error.message);
    case 'idempotency_mismatch':
      return new HttpProblem('idempotencyMismatch', error.message);
    case 'unprocessable':
      return new HttpProblem('unprocessable', error.message, { errors });
    case 'forbidden':
      return new HttpProblem('forbidden', error.message, { errors });
    case 'budget_exhausted':
      return new HttpProblem('budgetExhausted', error.message, {
        extensions: error.details.budget ? { budget: error.details.budget } : {},
      });
    case 'unavailable':
      return new HttpProblem('unavailable', error.message, {
        headers: {
          'retry-after': String(error.details.retryAfterSeconds ?? UNAVAILABLE_RETRY_AFTER_SECONDS),
        },
      });
  }
}

function registerErrorHandling(app: FastifyInstance): void {
  const routes = new RouteTable();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));

  app.setNotFoundHandler((request, reply) => {
    const path = instanceOf(request);
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      return sendProblem(request, reply, 'methodNotAllowed', `${request.method} is not allowed on ${path}.`, {
        headers: { allow: allowed.join(', ') },
      });
    }
    return sendProblem(request, reply, 'notFound', `No route matches ${request.method} ${path}.`);
  });

  app.setErrorHandler((caught: FastifyError, request, reply) => {
    const error = caught instanceof ServiceError ? serviceProblem(caught) : caught;
    if (error instanceof HttpProblem) {
      return sendProblem(request, reply, error.kind, error.detail, error.options);
    }
    if (isRateLimited(error)) {
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
    if (isStoreUnavailable(error)) {
      // An outage, not a bug: one warning line per request, no stack.
      request.log.warn({ err: { message: error.message } }, 'the store does not answer: 503');
      return sendProblem(
        request,
        reply,
        'unavailable',
        'The analysis store does not answer right now: retry shortly.',
        {
          headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
        },
      );
    }
    if (error.validation) {
      const context = CONTEXT_NAMES[error.validationContext ?? 'body'] ?? 'request';
      const errors = fieldErrors(error.validation as ValidationIssue[]);
      return sendProblem(request, reply, 'validation', `The ${context} is not valid: see errors.`, {
        errors,
      });
    }
    const status = error.statusCode ?? 500;
    if (status === 400 && isJsonParseError(error)) {
      return sendProblem(request, reply, 'malformedJson', jsonDetail(error));
    }
    if (status === 413) {
      return sendProblem(
        request,
        reply,
        'payloadTooLarge',
        `The request body is larger than this server accepts (${request.server.initialConfig.bodyLimit} bytes; BODY_LIMIT_BYTES).`,
      );
    }
    if (status === 415) {
      return sendProblem(
        request,
        reply,
        'unsupportedMediaType',
        `Send the body as application/json (got ${request.headers['content-type'] ?? 'no content type'}).`,
      );
    }
    const kind = STATUS_KINDS[status];
    if (status < 500 && kind) return sendProblem(request, reply, kind, safeClientMessage(error, request));
    if (status < 500) {
      return reply
        .code(status)
        .type('application/problem+json')
        .send(JSON.stringify(problemFor(request, status)));
    }
    request.log.error({ err: error }, 'request failed');
    if (status === 503)
      return sendProblem(request, reply, 'unavailable', 'The service is not ready: retry shortly.', {
        headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      });
    return sendProblem(request, reply, 'internal', 'The request failed on our side; it has been logged.');
  });
}

function fieldErrors(issues: ValidationIssue[]): ProblemFieldError[] {
  return issues.map((issue) => ({ path: issue.instancePath, message: issue.message ?? 'invalid value' }));
}

function isJsonParseError(error: FastifyError): boolean {
  return (
    error instanceof SyntaxError ||
    error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    /JSON/i.test(error.message)
  );
}

function jsonDetail(error: FastifyError): string {
  if (/prototype/i.test(error.message)) {
    return 'The body uses a forbidden key ("__proto__" or "constructor.prototype"): remove it.';
  }
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return 'The body is empty but Content-Type says application/json: send a JSON object.';
  }
  return 'The body could not be parsed as JSON: check quoting, commas and escapes.';
}

/** Fastify's own 4xx messages are safe; anything else gets a generic text. */
function safeClientMessage(error: FastifyError, request: FastifyRequest): string {
  if (error.code?.startsWith('FST_')) return error.message;
  return `The request to ${instanceOf(request)} could not be processed.`;
}

function problemFor(request: FastifyRequest, status: number) {
  return {
    type: '/problems/client-error',
    title: 'The request could not be processed.',
    status,
    detail: `The request to ${instanceOf(request)} could not be processed.`,
    instance: instanceOf(request),
    requestId: request.id,
  };
}
