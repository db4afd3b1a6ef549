/**
 * The refusals of the chat-compatible surfaces (OpenAI, Anthropic), before
 * each surface puts them in its own error shape: one classification of every
 * failure a request can meet — the surface's own checks, the job domain's
 * refusals, authentication, rate limits, validation, bad JSON — so neither
 * surface ever answers a 5xx for bad input, nor a problem+json.
 */
import type { FastifyError } from 'fastify';
import { ServiceError } from '../../analyses/errors.js';
import { isStoreUnavailable } from '../../analyses/store/store-errors.js';
import { HttpProblem, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../problem.js';

export type ChatErrorKind =
  | 'invalid'
  | 'authentication'
  | 'not_found'
  | 'rate_limited'
  | 'forbidden'
  | 'quota_exhausted'
  | 'unavailable'
  | 'analysis_failed'
  | 'internal';

/** A refusal in surface-neutral terms: each surface maps the kind to its status, type and code. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly kind: ChatErrorKind,
    message: string,
    readonly details: {
      /** The request field at fault, dotted (`messages.2.content`). */
      param?: string | undefined;
      /** A code the surface passes on (the analysis's `error.code`, `model_not_found`). */
      code?: string | undefined;
      retryAfterSeconds?: number | undefined;
    } = {},
  ) {
    super(message);
  }
}

/** `/messages/2/content` → `messages.2.content`. */
export function pointerToParam(pointer: string | undefined): string | undefined {
  if (!pointer) return undefined;
  return pointer.replace(/^\//, '').split('/').join('.') || undefined;
}

const PROBLEM_KINDS: Partial<Record<string, ChatErrorKind>> = {
  validation: 'invalid',
  malformedJson: 'invalid',
  payloadTooLarge: 'invalid',
  unsupportedMediaType: 'invalid',
  unprocessable: 'invalid',
  unauthorized: 'authentication',
  forbidden: 'forbidden',
  budgetExhausted: 'quota_exhausted',
  notFound: 'not_found',
  rateLimited: 'rate_limited',
  unavailable: 'unavailable',
};

/** The job domain's refusals that are not bad input. */
const SERVICE_KINDS: Partial<Record<ServiceError['kind'], ChatErrorKind>> = {
  unavailable: 'unavailable',
  not_found: 'not_found',
  forbidden: 'forbidden',
  budget_exhausted: 'quota_exhausted',
};

/** Classifies whatever a chat request failed with. */
export function toChatError(caught: unknown): ChatError {
  if (caught instanceof ChatError) return caught;
  if (caught instanceof ServiceError) {
    const first = caught.details.errors?.[0];
    const kind: ChatErrorKind = SERVICE_KINDS[caught.kind] ?? 'invalid';
    // A spent budget comes back when its window resets (never, for a `total` budget).
    const resetsAt = caught.details.budget?.resetsAt;
    const untilReset = resetsAt
      ? Math.max(1, Math.ceil((Date.parse(resetsAt) - Date.now()) / 1000))
      : undefined;
    return new ChatError(kind, caught.message, {
      param: pointerToParam(first?.path),
      retryAfterSeconds: caught.details.retryAfterSeconds ?? untilReset,
    });
  }
  if (caught instanceof HttpProblem) {
    const retry = caught.options.headers?.['retry-after'];
    return new ChatError(PROBLEM_KINDS[caught.kind] ?? 'invalid', caught.detail, {
      param: pointerToParam(caught.options.errors?.[0]?.path),
      retryAfterSeconds: retry === undefined ? undefined : Number(retry),
    });
  }
  if (isStoreUnavailable(caught)) {
    return new ChatError('unavailable', 'The analysis store does not answer right now: retry shortly.', {
      retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
    });
  }
  const error = caught as FastifyError & { retryAfterSeconds?: number; validation?: unknown };
  if (Array.isArray(error.validation)) {
    const issue = (error.validation as Array<{ instancePath: string; message?: string }>)[0];
    const param = pointerToParam(issue?.instancePath);
    return new ChatError('invalid', `${param ?? 'The body'}: ${issue?.message ?? 'invalid value'}`, {
      param,
    });
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 429) {
    return new ChatError('rate_limited', error.message, { retryAfterSeconds: error.retryAfterSeconds });
  }
  if (status === 413) {
    return new ChatError(
      'invalid',
      'The request body is larger than this server accepts (BODY_LIMIT_BYTES): shorten the conversation.',
    );
  }
  if (status === 400 || status === 415) {
    return new ChatError('invalid', 'The body could not be read: send a JSON object as application/json.');
  }
  if (status < 500) return new ChatError('invalid', 'The request could not be processed.');
  return new ChatError('internal', 'The request failed on our side; it has been logged.');
}
