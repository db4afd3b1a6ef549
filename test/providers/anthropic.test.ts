import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider, normalizeAnthropicBaseURL } from '../../src/providers/anthropic/index.js';
import type { Provider } from '../../src/providers/spec.js';
import { type FakeAnthropicOptions, startFakeAnthropic } from '../support/fake-anthropic.js';
import type { FakeUpstream } from '../support/fake-server.js';
import { API_KEY, adapterModel, adapterSettings, modelOf, request, streamed } from './support.js';

describe('Anthropic adapter', () => {
  let fake: FakeUpstream;
  let provider: Provider;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ text: 'Paris, because history.', chunks: 3 });
    provider = createAnthropicProvider(
      adapterSettings('anthropic', fake.url, [
        adapterModel('claude-sonnet-4-6', { contextWindow: 200_000, maxOutputTokens: 64_000 }),
        adapterModel('claude-haiku-4-5'),
      ]),
    );
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
    const options = fake.options as FakeAnthropicOptions;
    options.cacheReadInputTokens = undefined;
    options.cacheCreationInputTokens = undefined;
    options.provisionalOutputTokens = undefined;
  });

  it('describes its models', () => {
    expect(provider.kind).toBe('anthropic');
    expect(modelOf(provider.models, 'claude-sonnet-4-6').id).toBe('anthropic/claude-sonnet-4-6');
    expect(modelOf(provider.models, 'claude-sonnet-4-6').capabilities).toEqual({
      streaming: true,
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
      temperature: true,
      maxTemperature: 1,
      requiresMaxTokens: true,
    });
  });

  it('generates: text, usage (with cache tokens), finish reason, request id', async () => {
    const options = fake.options as FakeAnthropicOptions;
    options.cacheReadInputTokens = 100;
    options.cacheCreationInputTokens = 20;
    fake.enqueue({ type: 'answer', usage: { inputTokens: 12, outputTokens: 5 }, finishReason: 'max_tokens' });
    const result = await modelOf(provider.models, 'claude-sonnet-4-6').generate(request('claude-sonnet-4-6'));
    expect(result).toEqual({
      text: 'Paris, because history.',
      usage: { inputTokens: 132, outputTokens: 5 },
      finishReason: 'length',
      upstreamRequestId: 'req_fake_0',
    });
  });

  // @anthropic-ai/sdk 1.x (API version 2026-10-21) sends the key as `Authorization: Bearer`;
  // 0.x sent `x-api-key`. The assertion follows the installed SDK.
  it('sends what the Messages API expects: the key, API version, top-level system, max_tokens', async () => {
    await modelOf(provider.models, 'claude-sonnet-4-6').generate(
      request('claude-sonnet-4-6', { temperature: 0.5, maxTokens: 256 }),
    );
    const [call] = fake.calls;
    expect(call?.method).toBe('POST');
    expect(call?.path).toBe('/v1/messages');
    expect(call?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(call?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(call?.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'What is the capital of France and why?' }],
      temperature: 0.5,
      stream: false,
    });
  });

  it('takes max_tokens from the request, else the model configuration, else 4096', async () => {
    await modelOf(provider.models, 'claude-sonnet-4-6').generate(request('claude-sonnet-4-6'));
    await modelOf(provider.models, 'claude-haiku-4-5').generate(request('claude-haiku-4-5'));
    expect(fake.calls.map((call) => (call.body as { max_tokens: number }).max_tokens)).toEqual([
      64_000, 4096,
    ]);
  });

  it('clamps temperature to 1 and leaves out system and temperature when not given', async () => {
    await modelOf(provider.models, 'claude-haiku-4-5').generate(
      request('claude-haiku-4-5', { temperature: 1.7 }),
    );
    await modelOf(provider.models, 'claude-haiku-4-5').generate(
      request('claude-haiku-4-5', { system: undefined }),
    );
    expect(fake.calls[0]?.body).toMatchObject({ temperature: 1 });
    expect(fake.calls[1]?.body).not.toHaveProperty('system');
    expect(fake.calls[1]?.body).not.toHaveProperty('temperature');
  });

  it('streams: deltas, whole text, and output tokens from message_delta REPLACE the provisional count', async () => {
    (fake.options as FakeAnthropicOptions).provisionalOutputTokens = 4;
    fake.enqueue({ type: 'answer', usage: { inputTokens: 40, outputTokens: 11 } });
    const { result, deltas } = await streamed(
      modelOf(provider.models, 'claude-sonnet-4-6'),
      request('claude-sonnet-4-6', { maxTokens: 100 }),
    );
    expect(deltas).toHaveLength(3);
    expect(deltas.join('')).toBe('Paris, because history.');
    expect(result).toEqual({
      text: 'Paris, because history.',
      usage: { inputTokens: 40, outputTokens: 11 },
      finishReason: 'stop',
      upstreamRequestId: 'req_fake_0',
    });
    expect(fake.calls[0]?.body).toMatchObject({ stream: true, max_tokens: 100, system: 'You are terse.' });
  });

  it('streams: input tokens count cache reads and writes from message_start', async () => {
    const options = fake.options as FakeAnthropicOptions;
    options.cacheReadInputTokens = 1000;
    options.cacheCreationInputTokens = 50;
    fake.enqueue({ type: 'answer', usage: { inputTokens: 7, outputTokens: 3 } });
    const { result } = await streamed(
      modelOf(provider.models, 'claude-haiku-4-5'),
      request('claude-haiku-4-5'),
    );
    expect(result.usage).toEqual({ inputTokens: 1057, outputTokens: 3 });
  });

  it('takes cumulative input counts from message_delta when the API sends them', async () => {
    fake.enqueue({
      type: 'raw',
      headers: { 'content-type': 'text/event-stream' },
      body: [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"claude-haiku-4-5","usage":{"input_tokens":10,"output_tokens":1}}}\n\n',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":12,"cache_read_input_tokens":3,"output_tokens":6}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      ].join(''),
    });
    const { result } = await streamed(
      modelOf(provider.models, 'claude-haiku-4-5'),
      request('claude-haiku-4-5'),
    );
    expect(result).toMatchObject({
      text: 'Hi',
      usage: { inputTokens: 15, outputTokens: 6 },
      finishReason: 'stop',
    });
  });

  it('accepts a base URL with or without /v1', async () => {
    expect(normalizeAnthropicBaseURL('http://h:1/v1')).toBe('http://h:1');
    expect(normalizeAnthropicBaseURL('http://h:1/v1/')).toBe('http://h:1');
    expect(normalizeAnthropicBaseURL('http://h:1/proxy')).toBe('http://h:1/proxy');
    expect(normalizeAnthropicBaseURL(undefined)).toBe('https://api.anthropic.com');
    const bare = createAnthropicProvider(
      adapterSettings('anthropic', fake.origin, [adapterModel('claude-haiku-4-5')]),
    );
    await modelOf(bare.models, 'claude-haiku-4-5').generate(request('claude-haiku-4-5'));
    expect(fake.calls[0]?.path).toBe('/v1/messages');
  });

  it('reports availability from GET /v1/models, cached for 30 s', async () => {
    let now = 5_000;
    const cached = createAnthropicProvider(
      adapterSettings('anthropic', fake.url, [adapterModel('claude-haiku-4-5')]),
      {
        now: () => now,
      },
    );
    expect(await cached.checkAvailability()).toEqual({
      available: true,
      checkedAt: new Date(5_000).toISOString(),
    });
    expect(fake.requests[0]?.path).toBe('/v1/models');
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    fake.setModelsReply({ type: 'error', status: 529 });
    now += 10_000;
    expect((await cached.checkAvailability()).available).toBe(true);
    now += 30_000;
    expect(await cached.checkAvailability()).toMatchObject({
      available: false,
      reason: 'anthropic answered 529 (overloaded)',
    });
    expect(fake.requests).toHaveLength(2);
  });
});
