/**
 * Every upstream failure, through the real SDKs against the fakes, for each
 * adapter, JSON and streaming: the right code, retryable flag, retry-after,
 * status and request id, and a message that repeats neither the upstream
 * body nor the key.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from '../../src/providers/anthropic/index.js';
import type { ProviderError, ProviderErrorCode } from '../../src/providers/errors.js';
import { createOpenAIProvider } from '../../src/providers/openai/index.js';
import { createOpenAICompatibleProvider } from '../../src/providers/openai-compatible/index.js';
import { collectStream } from '../../src/providers/shared/stream-parts.js';
import type { GenerateRequest, LanguageModel, Provider, StreamPart } from '../../src/providers/spec.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { startFakeOpenAI } from '../support/fake-openai.js';
import { FAKE_BODY_MARKER, type FakeReply, type FakeUpstream, refusedURL } from '../support/fake-server.js';
import { API_KEY, adapterModel, adapterSettings, failure, request } from './support.js';

interface Adapter {
  label: string;
  providerName: string;
  model: string;
  start: () => Promise<FakeUpstream>;
  create: (baseURL: string) => Provider;
  contextLengthBody: unknown;
  /** What an in-stream error event maps to. */
  streamErrorCode: ProviderErrorCode;
}

const adapters: Adapter[] = [
  {
    label: 'openai',
    providerName: 'openai',
    model: 'gpt-4.1-mini',
    start: () => startFakeOpenAI(),
    create: (url) => createOpenAIProvider(adapterSettings('openai', url, [adapterModel('gpt-4.1-mini')])),
    contextLengthBody: {
      error: {
        message: `${FAKE_BODY_MARKER} This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.`,
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    },
    streamErrorCode: 'upstream_error',
  },
  {
    label: 'anthropic',
    providerName: 'anthropic',
    model: 'claude-haiku-4-5',
    start: () => startFakeAnthropic(),
    create: (url) =>
      createAnthropicProvider(adapterSettings('anthropic', url, [adapterModel('claude-haiku-4-5')])),
    contextLengthBody: {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: `${FAKE_BODY_MARKER} prompt is too long: 210000 tokens > 200000 maximum`,
      },
    },
    streamErrorCode: 'overloaded',
  },
  {
    label: 'openai-compatible',
    providerName: 'local',
    model: 'llama3.2',
    start: () => startFakeOpenAI(),
    create: (url) =>
      createOpenAICompatibleProvider(adapterSettings('openai-compatible', url, [adapterModel('llama3.2')])),
    contextLengthBody: { error: `${FAKE_BODY_MARKER} the input exceeds the context length of the model` },
    streamErrorCode: 'upstream_error',
  },
];

type Mode = 'generate' | 'stream';

interface StatusCase {
  status: number;
  code: ProviderErrorCode;
  retryable: boolean;
  headers?: Record<string, string>;
  retryAfterMs?: number;
}

const statusCases: StatusCase[] = [
  { status: 400, code: 'bad_request', retryable: false },
  { status: 401, code: 'auth_failed', retryable: false },
  { status: 403, code: 'auth_failed', retryable: false },
  { status: 404, code: 'bad_request', retryable: false },
  { status: 408, code: 'timeout', retryable: true },
  { status: 413, code: 'context_length_exceeded', retryable: false },
  { status: 422, code: 'bad_request', retryable: false },
  { status: 429, code: 'rate_limited', retryable: true },
  { status: 429, code: 'rate_limited', retryable: true, headers: { 'retry-after': '2' }, retryAfterMs: 2000 },
  {
    status: 429,
    code: 'rate_limited',
    retryable: true,
    headers: { 'retry-after-ms': '1500' },
    retryAfterMs: 1500,
  },
  { status: 500, code: 'upstream_error', retryable: true },
  { status: 502, code: 'upstream_error', retryable: true },
  { status: 503, code: 'overloaded', retryable: true, headers: { 'retry-after': '1' }, retryAfterMs: 1000 },
  { status: 504, code: 'upstream_error', retryable: true },
  { status: 529, code: 'overloaded', retryable: true },
];

function call(
  model: LanguageModel,
  mode: Mode,
  generateRequest: GenerateRequest,
  deltas: string[] = [],
  signal?: AbortSignal,
) {
  return mode === 'generate'
    ? model.generate(generateRequest, { signal })
    : collectStream(model.stream(generateRequest, { signal }), (text) => deltas.push(text));
}

function expectSafe(error: ProviderError, adapter: Adapter): void {
  expect(error.name).toBe('ProviderError');
  expect(error.provider).toBe(adapter.providerName);
  expect(error.message.startsWith(adapter.providerName)).toBe(true);
  expect(error.message).not.toContain(FAKE_BODY_MARKER);
  expect(error.message).not.toContain(API_KEY);
  expect(JSON.stringify(error)).not.toContain(FAKE_BODY_MARKER);
}

describe.each(adapters)('$label: upstream failures', (adapter) => {
  let fake: FakeUpstream;
  let model: LanguageModel;

  beforeAll(async () => {
    fake = await adapter.start();
    fake.options.chunks = 4;
    model = adapter.create(fake.url).models[0]!;
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  describe.each<Mode>(['generate', 'stream'])('%s', (mode) => {
    it.each(statusCases)('HTTP $status $headers → $code', async (testCase) => {
      fake.enqueue({ type: 'error', status: testCase.status, headers: testCase.headers });
      const error = await failure(call(model, mode, request(adapter.model)));
      expect(error).toMatchObject({
        code: testCase.code,
        retryable: testCase.retryable,
        status: testCase.status,
        retryAfterMs: testCase.retryAfterMs,
        upstreamRequestId: 'req_fake_0',
      });
      expectSafe(error, adapter);
      if (testCase.retryAfterMs !== undefined) {
        expect(error.message).toContain(`retry after ${testCase.retryAfterMs} ms`);
      }
      if (testCase.status === 404) expect(error.message).toContain(`model not found: ${adapter.model}`);
    });

    it('HTTP 400 about the context length → context_length_exceeded', async () => {
      fake.enqueue({ type: 'error', status: 400, body: adapter.contextLengthBody });
      const error = await failure(call(model, mode, request(adapter.model)));
      expect(error).toMatchObject({ code: 'context_length_exceeded', retryable: false, status: 400 });
      expectSafe(error, adapter);
    });

    it('connection refused → network_error', async () => {
      const down = adapter.create(await refusedURL()).models[0]!;
      const error = await failure(call(down, mode, request(adapter.model)));
      expect(error).toMatchObject({ code: 'network_error', retryable: true, status: undefined });
      expectSafe(error, adapter);
    });

    it('connection reset before headers → network_error', async () => {
      fake.enqueue({ type: 'reset' });
      const error = await failure(call(model, mode, request(adapter.model)));
      expect(error).toMatchObject({ code: 'network_error', retryable: true });
      expectSafe(error, adapter);
    });

    it('connection reset in the middle of the body → network_error (after the deltas it got)', async () => {
      fake.enqueue({ type: 'resetMidStream', afterChunks: 2 });
      const deltas: string[] = [];
      const error = await failure(call(model, mode, request(adapter.model), deltas));
      expect(error).toMatchObject({ code: 'network_error', retryable: true });
      expectSafe(error, adapter);
      if (mode === 'stream') expect(deltas).toHaveLength(2);
    });

    it('malformed JSON → upstream_error', async () => {
      fake.enqueue({ type: 'malformed' });
      const error = await failure(call(model, mode, request(adapter.model)));
      expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
      expectSafe(error, adapter);
    });

    it('a JSON answer of the wrong shape → upstream_error', async () => {
      const body = mode === 'generate' ? JSON.stringify({ unexpected: FAKE_BODY_MARKER }) : undefined;
      const reply: FakeReply =
        mode === 'generate'
          ? { type: 'raw', headers: { 'content-type': 'application/json' }, body }
          : {
              type: 'raw',
              headers: { 'content-type': 'application/json' },
              body: `${FAKE_BODY_MARKER} not sse`,
            };
      fake.enqueue(reply);
      const error = await failure(call(model, mode, request(adapter.model)));
      expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
      expectSafe(error, adapter);
    });

    it('caller abort while waiting → cancelled, not retryable', async () => {
      fake.enqueue({ type: 'hang' });
      const controller = new AbortController();
      const pending = failure(call(model, mode, request(adapter.model), [], controller.signal));
      await fake.waitForRequests(1);
      controller.abort();
      const error = await pending;
      expect(error).toMatchObject({ code: 'cancelled', retryable: false });
      expectSafe(error, adapter);
    });

    it('abort with a TimeoutError reason → timeout, retryable', async () => {
      fake.enqueue({ type: 'hang' }, { type: 'hang' });
      for (const reason of [
        new DOMException('attempt timed out', 'TimeoutError'),
        { name: 'TimeoutError' },
      ]) {
        const controller = new AbortController();
        const pending = failure(call(model, mode, request(adapter.model), [], controller.signal));
        await fake.waitForRequests(fake.requests.length + 1);
        controller.abort(reason);
        const error = await pending;
        expect(error).toMatchObject({ code: 'timeout', retryable: true });
        expectSafe(error, adapter);
      }
    });

    it('a signal aborted before the call → cancelled, nothing sent', async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await failure(call(model, mode, request(adapter.model), [], controller.signal));
      expect(error).toMatchObject({ code: 'cancelled', retryable: false });
      expect(fake.calls).toHaveLength(0);
    });
  });

  describe('stream only', () => {
    it('caller abort after some deltas → cancelled', async () => {
      fake.enqueue({ type: 'answer', chunks: 4, chunkDelayMs: 30 });
      const controller = new AbortController();
      const deltas: string[] = [];
      const error = await failure(
        collectStream(model.stream(request(adapter.model), { signal: controller.signal }), (text) => {
          deltas.push(text);
          if (deltas.length === 1) controller.abort();
        }),
      );
      expect(error).toMatchObject({ code: 'cancelled', retryable: false });
      expect(deltas).toHaveLength(1);
    });

    it('an error event inside the stream → mapped by its type', async () => {
      fake.enqueue({ type: 'streamError', afterChunks: 1 });
      const deltas: string[] = [];
      const error = await failure(
        collectStream(model.stream(request(adapter.model)), (text) => deltas.push(text)),
      );
      expect(error).toMatchObject({ code: adapter.streamErrorCode, retryable: true });
      expect(deltas).toHaveLength(1);
      expectSafe(error, adapter);
    });

    it('a stream that ends cleanly before its terminal event → upstream_error', async () => {
      fake.enqueue({ type: 'truncate', afterChunks: 2 });
      const error = await failure(collectStream(model.stream(request(adapter.model))));
      expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
      expectSafe(error, adapter);
    });

    it('fails before its first text by rejecting, after it with an error part that ends the stream', async () => {
      fake.enqueue({ type: 'error', status: 503 });
      const early = model.stream(request(adapter.model))[Symbol.asyncIterator]();
      await expect(early.next()).rejects.toMatchObject({ code: 'overloaded' });

      fake.enqueue({ type: 'streamError', afterChunks: 1 });
      const parts: StreamPart[] = [];
      for await (const part of model.stream(request(adapter.model))) parts.push(part);
      expect(parts.map((part) => part.type)).toEqual(['text-delta', 'error']);
      const last = parts.at(-1)!;
      expect(last.type === 'error' && last.error).toMatchObject({
        code: adapter.streamErrorCode,
        retryable: true,
      });
    });
  });

  it('writes the exact message for a 429 with retry-after', async () => {
    fake.enqueue({ type: 'error', status: 429, headers: { 'retry-after': '2' } });
    const error = await failure(model.generate(request(adapter.model)));
    expect(error.message).toBe(`${adapter.providerName} answered 429 (rate limited); retry after 2000 ms`);
    expect(error.toJSON()).toEqual({ code: 'rate_limited', message: error.message });
  });
});

describe('openai specifics', () => {
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(() => fake.close());

  it('a 429 for an exhausted quota is not retryable', async () => {
    fake.enqueue({
      type: 'error',
      status: 429,
      body: { error: { message: FAKE_BODY_MARKER, type: 'insufficient_quota', code: 'insufficient_quota' } },
    });
    const model = createOpenAIProvider(adapterSettings('openai', fake.url, [adapterModel('gpt-4.1-mini')]))
      .models[0]!;
    const error = await failure(model.generate(request('gpt-4.1-mini')));
    expect(error).toMatchObject({ code: 'rate_limited', retryable: false, status: 429 });
    expect(error.message).toBe('openai answered 429 (rate limited: quota exhausted)');
  });
});
