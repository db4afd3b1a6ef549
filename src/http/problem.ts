import type { FastifyReply, FastifyRequest } from 'fastify';

/** Problem types: a stable relative URI and a fixed title per kind (RFC 9457). */
export const PROBLEMS = {
  validation: { type: '/problems/validation-error', title: 'Your request is not valid.', status: 400 },
  malformedJson: {
    type: '/problems/malformed-json',
    title: 'The request body is not valid JSON.',
    status: 400,
  },
  unauthorized: { type: '/problems/unauthorized', title: 'Authentication is required.', status: 401 },
  budgetExhausted: {
    type: '/problems/budget-exhausted',
    title: "The API key's budget does not cover this.",
    status: 402,
  },
  forbidden: { type: '/problems/forbidden', title: 'This API key may not do this.', status: 403 },
  notFound: { type: '/problems/not-found', title: 'The resource was not found.', status: 404 },
  methodNotAllowed: {
    type: '/problems/method-not-allowed',
    title: 'The method is not allowed on this resource.',
    status: 405,
  },
  notAcceptable: { type: '/problems/not-acceptable', title: 'No acceptable representation.', status: 406 },
  limitReached: {
    type: '/problems/limit-reached',
    title: 'A limit on what one API key may keep has been reached.',
    status: 409,
  },
  conflict: {
    type: '/problems/conflict',
    title: 'The request conflicts with the resource state.',
    status: 409,
  },
  idempotencyInProgress: {
    type: '/problems/idempotency-key-in-use',
    title: 'A request with this Idempotency-Key is in progress.',
    status: 409,
  },
  requestTimeout: {
    type: '/problems/request-timeout',
    title: 'The request did not arrive in time.',
    status: 408,
  },
  payloadTooLarge: {
    type: '/problems/payload-too-large',
    title: 'The request body is too large.',
    status: 413,
  },
  uriTooLong: { type: '/problems/uri-too-long', title: 'The request URI is too long.', status: 414 },
  unsupportedMediaType: {
    type: '/problems/unsupported-media-type',
    title: 'The request body has an unsupported content type.',
    status: 415,
  },
  unprocessable: {
    type: '/problems/unprocessable-entity',
    title: 'The request refers to something that does not exist.',
    status: 422,
  },
  idempotencyMismatch: {
    type: '/problems/idempotency-key-mismatch',
    title: 'The Idempotency-Key was used with a different request.',
    status: 422,
  },
  headersTooLarge: {
    type: '/problems/headers-too-large',
    title: 'The request headers are too large.',
    status: 431,
  },
  rateLimited: { type: '/problems/rate-limited', title: 'Too many requests.', status: 429 },
  internal: { type: '/problems/internal-error', title: 'Something went wrong on our side.', status: 500 },
  unavailable: {
    type: '/problems/service-unavailable',
    title: 'The service cannot take this now.',
    status: 503,
  },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

/** `Retry-After` of a `503` when the service (or its store) cannot answer now. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export interface ProblemFieldError {
  path: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: ProblemFieldError[];
}

export interface ProblemOptions {
  errors?: ProblemFieldError[];
  headers?: Record<string, string>;
  /** Extension members of the problem (RFC 9457 §3.2), e.g. a budget's figures. */
  extensions?: Record<string, unknown>;
}

/** An error a route throws to answer with a problem. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly options: ProblemOptions = {},
  ) {
    super(detail);
  }
}

/** The request path without its query string. */
export function instanceOf(request: FastifyRequest): string {
  const url = request.raw.url ?? request.url;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

export function problemBody(
  request: FastifyRequest,
  kind: ProblemKind,
  detail: string,
  errors?: ProblemFieldError[],
): ProblemBody {
  return problemOf(kind, detail, instanceOf(request), request.id, errors);
}

/** A problem body from its parts (for answers written before a request exists, such as protocol errors). */
export function problemOf(
  kind: ProblemKind,
  detail: string,
  instance: string,
  requestId: string,
  errors?: ProblemFieldError[],
): ProblemBody {
  const problem = PROBLEMS[kind];
  const body: ProblemBody = {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail,
    instance,
    requestId,
  };
  if (errors && errors.length > 0) body.errors = errors;
  return body;
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  kind: ProblemKind,
  detail: string,
  options: ProblemOptions = {},
): FastifyReply {
  const body = { ...problemBody(request, kind, detail, options.errors), ...options.extensions };
  if (options.headers) reply.headers(options.headers);
  return reply.code(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function pointerSegment(segment: PropertyKey): string {
  return String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function toPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${pointerSegment(segment)}`).join('');
}
