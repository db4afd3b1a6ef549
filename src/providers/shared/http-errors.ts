/**
 * The mapping every adapter's own error mapping is made of: whatever its SDK
 * (described by its error classes, see `createErrorMapping`), undici or our
 * own payload checks throw becomes a ProviderError with a code, a retryable flag, `retryAfterMs`, the status,
 * the upstream request id and a message that is safe to show a client (a
 * fixed sentence per code and the status; never the upstream body or a key).
 *
 * The caller's signal wins over everything the SDK says: when it is aborted
 * the error is `cancelled`, or `timeout` (retryable) when the abort reason is a
 * timeout (`AbortSignal.timeout()`, `new DOMException(…, 'TimeoutError')`, or
 * any reason object whose `name` is `'TimeoutError'`).
 */

import { isRecord } from '../../util/is-record.js';
import { ProviderError, type ProviderErrorCode } from '../errors.js';
import { parseRetryAfter } from './retry-after.js';
import {
  causeCodes,
  isAbortLike,
  isTerminated,
  isTimeoutReason,
  NETWORK_CODES,
  TIMEOUT_CODES,
  UNREACHABLE_CODES,
} from './transport-errors.js';
import { upstreamRequestId } from './upstream-request-id.js';

export interface ErrorContext {
  /** The provider's configured name (`openai`, `local`, …); it starts every message. */
  provider: string;
  /** The provider's own model name, named in a model-not-found message. */
  model?: string | undefined;
  /** The caller's signal: when aborted it decides the code. */
  signal?: AbortSignal | undefined;
}

const SENTENCES: Record<ProviderErrorCode, string> = {
  rate_limited: 'rate limited',
  overloaded: 'overloaded',
  timeout: 'timed out',
  auth_failed: 'authentication failed',
  bad_request: 'bad request',
  context_length_exceeded: 'context length exceeded',
  upstream_error: 'upstream error',
  network_error: 'network error',
  cancelled: 'cancelled',
  internal: 'internal error',
};

const CONTEXT_LENGTH =
  /context[ _-]?(length|window)|maximum context|too many (input )?tokens|prompt is too long|input is too long|reduce the length of the (messages|prompt)/i;
/** The error classes of one SDK (openai and @anthropic-ai/sdk have the same set). */
export interface SdkErrorClasses {
  /** The SDK's base class of every error it throws. */
  base: ErrorClass;
  api: abstract new (...args: never[]) => SdkAPIError;
  userAbort: ErrorClass;
  connectionTimeout: ErrorClass;
  connection: ErrorClass;
}

/** What the SDKs' APIError carries. */
export interface SdkAPIError extends Error {
  status: number | undefined;
  headers: Headers | undefined;
  error: unknown;
}

export type ErrorMapping = (error: unknown, context: ErrorContext) => ProviderError;

/** An adapter's mapping of anything its upstream call threw (a ProviderError passes through). */
export function createErrorMapping(sdk: SdkErrorClasses): ErrorMapping {
  return (error, context) => {
    const signal = context.signal;
    if (signal?.aborted) return abortError(signal.reason, context, error);
    if (error instanceof ProviderError) return error;
    if (error instanceof sdk.api) {
      if (error.status !== undefined)
        return fromStatus(error.status, error.headers, error.error, context, error);
      if (isInstance(error, sdk.userAbort)) return abortError(undefined, context, error);
      if (isInstance(error, sdk.connectionTimeout)) {
        return build({ code: 'timeout', context, detail: 'no answer in time', cause: error });
      }
      if (isInstance(error, sdk.connection)) {
        const codes = causeCodes(error);
        if (codes.some((code) => TIMEOUT_CODES.has(code))) {
          return build({ code: 'timeout', context, detail: 'no answer in time', cause: error });
        }
        const detail = codes.some((code) => UNREACHABLE_CODES.has(code)) ? 'unreachable' : 'connection lost';
        return build({ code: 'network_error', context, detail, cause: error });
      }
      // An error event inside a stream: no status, the body says what happened.
      return fromBody(error.error, error.headers, context, error);
    }
    if (error instanceof sdk.base) {
      const transport = transportError(error, context);
      return (
        transport ??
        build({ code: 'internal', context, detail: 'the client library refused the call', cause: error })
      );
    }
    return (
      transportError(error, context) ??
      build({ code: 'internal', context, detail: 'unexpected failure', cause: error })
    );
  };
}

/** What no SDK wraps: a parse failure, an abort the caller did not ask for, a socket's own error. */
function transportError(error: unknown, context: ErrorContext): ProviderError | undefined {
  if (error instanceof SyntaxError) return malformedResponseError(context, error);
  if (isAbortLike(error)) {
    // An abort the caller did not ask for: the SDK's own backstop timer.
    return build({ code: 'timeout', context, detail: 'no answer in time', cause: error });
  }
  const codes = causeCodes(error);
  if (codes.some((code) => TIMEOUT_CODES.has(code))) {
    return build({ code: 'timeout', context, detail: 'no answer in time', cause: error });
  }
  if (codes.some((code) => NETWORK_CODES.has(code)) || isTerminated(error)) {
    return build({ code: 'network_error', context, detail: 'connection lost', cause: error });
  }
  return undefined;
}

/** The answer could not be parsed or did not have the shape we depend on. */
export function malformedResponseError(context: ErrorContext, cause?: unknown): ProviderError {
  return build({ code: 'upstream_error', context, detail: 'malformed response', cause });
}

/** The stream closed cleanly but before its terminal event (a truncated answer). */
export function streamEndedEarlyError(context: ErrorContext): ProviderError {
  return build({
    code: 'upstream_error',
    context,
    detail: 'the stream ended before the answer was complete',
  });
}

/** A provider configured without the key it needs: fail without calling it. */
export function missingKeyError(context: ErrorContext): ProviderError {
  return build({ code: 'auth_failed', context, detail: 'no API key is configured' });
}

/** The error context of one call to one of a provider's models. */
export function requestContext(
  provider: string,
  model: string,
  signal: AbortSignal | undefined,
): ErrorContext {
  return { provider, model, signal };
}

/** The provider's SDK client, or `auth_failed` when the provider has no key (no call is made). */
export function requireClient<Client>(client: Client | undefined, context: ErrorContext): Client {
  if (!client) throw missingKeyError(context);
  return client;
}

function abortError(reason: unknown, context: ErrorContext, cause: unknown): ProviderError {
  if (isTimeoutReason(reason)) {
    return build({ code: 'timeout', context, detail: 'the call took too long', retryable: true, cause });
  }
  return build({ code: 'cancelled', context, retryable: false, cause });
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** `instanceof` without narrowing: an SDK's error subclasses overlap as types, not as classes. */
function isInstance(error: unknown, errorClass: ErrorClass): boolean {
  return error instanceof errorClass;
}

function fromStatus(
  status: number,
  headers: Headers | undefined,
  body: unknown,
  context: ErrorContext,
  cause: Error,
): ProviderError {
  const text = `${cause.message} ${safeStringify(body)}`;
  const type = bodyType(body);
  const base = { context, status, headers, cause };
  if (status === 400 || status === 422) {
    if (CONTEXT_LENGTH.test(text)) return build({ ...base, code: 'context_length_exceeded' });
    return build({ ...base, code: 'bad_request' });
  }
  if (status === 401 || status === 402 || status === 403) return build({ ...base, code: 'auth_failed' });
  if (status === 404) {
    const detail = context.model
      ? `model not found: ${context.model} is not available at ${context.provider}`
      : 'not found';
    return build({ ...base, code: 'bad_request', detail });
  }
  if (status === 408) return build({ ...base, code: 'timeout' });
  if (status === 413) return build({ ...base, code: 'context_length_exceeded' });
  if (status === 429) {
    if (/insufficient_quota|billing|quota/i.test(type ?? '')) {
      return build({ ...base, code: 'rate_limited', detail: 'quota exhausted', retryable: false });
    }
    return build({ ...base, code: 'rate_limited' });
  }
  if (status === 503 || status === 529 || type === 'overloaded_error')
    return build({ ...base, code: 'overloaded' });
  if (status >= 500) return build({ ...base, code: 'upstream_error' });
  if (status === 409) return build({ ...base, code: 'upstream_error' });
  return build({ ...base, code: 'bad_request' });
}

/** Error events inside a stream carry no status; the body's type decides. */
function fromBody(
  body: unknown,
  headers: Headers | undefined,
  context: ErrorContext,
  cause: Error,
): ProviderError {
  const type = bodyType(body) ?? '';
  const text = `${type} ${safeStringify(body)}`;
  const base = { context, headers, cause, detail: 'error event in the stream' };
  if (/overloaded/i.test(type)) return build({ ...base, code: 'overloaded' });
  if (/rate_limit/i.test(type)) return build({ ...base, code: 'rate_limited' });
  if (/authentication|permission/i.test(type)) return build({ ...base, code: 'auth_failed' });
  if (/invalid_request/i.test(type)) {
    return build({ ...base, code: CONTEXT_LENGTH.test(text) ? 'context_length_exceeded' : 'bad_request' });
  }
  return build({ ...base, code: 'upstream_error' });
}

interface BuildOptions {
  code: ProviderErrorCode;
  context: ErrorContext;
  status?: number | undefined;
  headers?: Headers | undefined;
  detail?: string | undefined;
  retryable?: boolean | undefined;
  cause?: unknown;
}

function build(options: BuildOptions): ProviderError {
  const { code, context, status, headers } = options;
  const retryAfterMs = headers ? parseRetryAfter((name) => headers.get(name)) : undefined;
  const requestId = upstreamRequestId(headers ?? undefined, 'x-request-id', 'request-id');
  const sentence = options.detail ? `${SENTENCES[code]}: ${options.detail}` : SENTENCES[code];
  let message =
    status === undefined
      ? `${context.provider} call failed (${sentence})`
      : `${context.provider} answered ${status} (${sentence})`;
  if (code === 'cancelled') message = `${context.provider} call was cancelled`;
  if (retryAfterMs !== undefined) message += `; retry after ${retryAfterMs} ms`;
  return new ProviderError({
    code,
    message,
    retryable: options.retryable,
    retryAfterMs,
    status,
    upstreamRequestId: requestId,
    provider: context.provider,
    cause: options.cause,
  });
}

/** `error.type`, `error.error.type` or `code`, whichever the body has (OpenAI, Anthropic and clones). */
function bodyType(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const inner = isRecord(body.error) ? body.error : undefined;
  const candidates = [inner?.type, inner?.code, body.type === 'error' ? undefined : body.type, body.code];
  for (const candidate of candidates) if (typeof candidate === 'string' && candidate) return candidate;
  return undefined;
}

function safeStringify(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.slice(0, 4000);
  try {
    return JSON.stringify(value).slice(0, 4000);
  } catch {
    return '';
  }
}
