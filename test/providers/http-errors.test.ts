import * as Anthropic from '@anthropic-ai/sdk';
import * as OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { toAnthropicError } from '../../src/providers/anthropic/errors.js';
import { ProviderError } from '../../src/providers/errors.js';
import { toOpenAIError } from '../../src/providers/openai/errors.js';
import { malformedResponseError, streamEndedEarlyError } from '../../src/providers/shared/http-errors.js';
import { isTimeoutReason } from '../../src/providers/shared/transport-errors.js';

const context = { provider: 'openai', model: 'gpt-4.1-mini' };
const headers = (entries: Record<string, string> = {}) =>
  new Headers({ 'x-request-id': 'req_1', ...entries });

function aborted(reason?: unknown): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

describe("the adapters' error mappings (one shared core)", () => {
  it('maps OpenAI status errors with retry-after and request id', () => {
    const error = OpenAI.APIError.generate(
      429,
      { error: { message: 'slow down sk-live-KEY', type: 'requests' } },
      undefined,
      headers({ 'retry-after-ms': '250' }),
    );
    const mapped = toOpenAIError(error, context);
    expect(mapped).toBeInstanceOf(ProviderError);
    expect(mapped).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 250,
      status: 429,
      upstreamRequestId: 'req_1',
      provider: 'openai',
      message: 'openai answered 429 (rate limited); retry after 250 ms',
    });
    expect(mapped.cause).toBeUndefined(); // never attached: the SDK error can carry the raw body
  });

  it("maps Anthropic's 529 and its request-id header", () => {
    const error = Anthropic.APIError.generate(
      529,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      undefined,
      new Headers({ 'request-id': 'req_a' }),
    );
    expect(toAnthropicError(error, { provider: 'anthropic' })).toMatchObject({
      code: 'overloaded',
      retryable: true,
      status: 529,
      upstreamRequestId: 'req_a',
      message: 'anthropic answered 529 (overloaded)',
    });
  });

  it('recognises context-length 400s from the body', () => {
    const bodies = [
      {
        error: {
          message: "This model's maximum context length is 8192 tokens",
          code: 'context_length_exceeded',
        },
      },
      { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 1 > 0' } },
      { error: { message: 'Too many tokens in the request' } },
    ];
    for (const body of bodies) {
      expect(toOpenAIError(OpenAI.APIError.generate(400, body, undefined, headers()), context).code).toBe(
        'context_length_exceeded',
      );
    }
    const plain = OpenAI.APIError.generate(
      400,
      { error: { message: 'max_tokens is too large' } },
      undefined,
      headers(),
    );
    expect(toOpenAIError(plain, context).code).toBe('bad_request');
  });

  it('maps connection errors', () => {
    const refused = new OpenAI.APIConnectionError({
      cause: Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      }),
    });
    expect(toOpenAIError(refused, context)).toMatchObject({
      code: 'network_error',
      retryable: true,
      message: 'openai call failed (network error: unreachable)',
    });
    expect(toAnthropicError(new Anthropic.APIConnectionTimeoutError(), context)).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    const terminated = new TypeError('terminated', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    expect(toOpenAIError(terminated, context)).toMatchObject({ code: 'network_error', retryable: true });
  });

  it('maps error events inside a stream by their type', () => {
    const overloaded = new Anthropic.APIError(
      undefined,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      undefined,
      new Headers(),
    );
    expect(toAnthropicError(overloaded, context).code).toBe('overloaded');
    const server = new OpenAI.APIError(
      undefined,
      { message: 'boom', type: 'server_error' },
      undefined,
      new Headers(),
    );
    expect(toOpenAIError(server, context)).toMatchObject({ code: 'upstream_error', retryable: true });
  });

  it('maps malformed JSON to upstream_error', () => {
    let syntax: unknown;
    try {
      JSON.parse('{nope');
    } catch (error) {
      syntax = error;
    }
    expect(toOpenAIError(syntax, context)).toMatchObject({ code: 'upstream_error', retryable: true });
    expect(malformedResponseError(context).code).toBe('upstream_error');
    expect(streamEndedEarlyError(context).retryable).toBe(true);
  });

  it('lets an aborted signal decide, whatever was thrown', () => {
    const thrown = OpenAI.APIError.generate(500, { error: { message: 'x' } }, undefined, headers());
    expect(toOpenAIError(thrown, { ...context, signal: aborted() })).toMatchObject({
      code: 'cancelled',
      retryable: false,
      message: 'openai call was cancelled',
    });
    expect(toOpenAIError(new OpenAI.APIUserAbortError(), { ...context, signal: aborted() }).code).toBe(
      'cancelled',
    );
    const timeoutSignal = aborted(new DOMException('attempt took too long', 'TimeoutError'));
    expect(toOpenAIError(thrown, { ...context, signal: timeoutSignal })).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    expect(
      toOpenAIError(new Error('x'), { ...context, signal: aborted({ name: 'TimeoutError' }) }).code,
    ).toBe('timeout');
  });

  it('passes ProviderErrors through and calls the unknown internal', () => {
    const original = new ProviderError({ code: 'overloaded', message: 'busy' });
    expect(toOpenAIError(original, context)).toBe(original);
    expect(toOpenAIError(new RangeError('bug'), context)).toMatchObject({
      code: 'internal',
      retryable: false,
    });
    expect(toOpenAIError('a string', context)).toMatchObject({ code: 'internal', retryable: false });
  });

  it('knows timeout reasons', () => {
    expect(isTimeoutReason(new DOMException('t', 'TimeoutError'))).toBe(true);
    expect(isTimeoutReason({ name: 'TimeoutError' })).toBe(true);
    expect(isTimeoutReason(new DOMException('a', 'AbortError'))).toBe(false);
    expect(isTimeoutReason(undefined)).toBe(false);
  });
});
