import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../src/providers/openai/index.js';
import type { Provider } from '../../src/providers/spec.js';
import { type FakeUpstream, startFakeOpenAI } from '../support/fake-openai.js';
import { API_KEY, adapterModel, adapterSettings, modelOf, request, streamed } from './support.js';

describe('OpenAI adapter', () => {
  let fake: FakeUpstream;
  let provider: Provider;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ text: 'Paris is the capital of France.', chunks: 3 });
    provider = createOpenAIProvider(
      adapterSettings('openai', fake.url, [
        adapterModel('gpt-4.1-mini', { contextWindow: 1_000_000, maxOutputTokens: 32_768 }),
        adapterModel('o4-mini'),
        adapterModel('gpt-5'),
        adapterModel('my-thinker', { reasoning: true }),
      ]),
    );
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('describes its models', () => {
    expect(provider.name).toBe('openai');
    expect(provider.kind).toBe('openai');
    const mini = modelOf(provider.models, 'gpt-4.1-mini');
    expect(mini.id).toBe('openai/gpt-4.1-mini');
    expect(mini.provider).toBe('openai');
    expect(mini.capabilities).toEqual({
      streaming: true,
      contextWindow: 1_000_000,
      maxOutputTokens: 32_768,
      temperature: true,
      maxTemperature: 2,
      requiresMaxTokens: false,
    });
    expect(modelOf(provider.models, 'o4-mini').capabilities).toMatchObject({
      temperature: false,
      contextWindow: null,
      maxOutputTokens: null,
    });
    expect(modelOf(provider.models, 'gpt-5').capabilities.temperature).toBe(false);
    expect(modelOf(provider.models, 'my-thinker').capabilities.temperature).toBe(false);
  });

  it('generates: text, exact usage, finish reason, request id', async () => {
    fake.enqueue({ type: 'answer', usage: { inputTokens: 21, outputTokens: 7 } });
    const result = await modelOf(provider.models, 'gpt-4.1-mini').generate(request('gpt-4.1-mini'));
    expect(result).toEqual({
      text: 'Paris is the capital of France.',
      usage: { inputTokens: 21, outputTokens: 7 },
      finishReason: 'stop',
      upstreamRequestId: 'req_fake_0',
    });
  });

  it('sends what the Chat Completions API expects (non-streaming)', async () => {
    await modelOf(provider.models, 'gpt-4.1-mini').generate(
      request('gpt-4.1-mini', { temperature: 1.5, maxTokens: 300 }),
    );
    const [call] = fake.calls;
    expect(call?.method).toBe('POST');
    expect(call?.path).toBe('/v1/chat/completions');
    expect(call?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(call?.headers['x-api-key']).toBeUndefined();
    expect(call?.body).toEqual({
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is the capital of France and why?' },
      ],
      temperature: 1.5,
      max_tokens: 300,
      stream: false,
    });
  });

  it('leaves temperature and max tokens out when not given, and the system message when empty', async () => {
    await modelOf(provider.models, 'gpt-4.1-mini').generate(request('gpt-4.1-mini', { system: undefined }));
    expect(fake.calls[0]?.body).toEqual({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'What is the capital of France and why?' }],
      stream: false,
    });
  });

  it('uses max_completion_tokens and no temperature for reasoning models', async () => {
    for (const id of ['o4-mini', 'gpt-5', 'my-thinker']) {
      await modelOf(provider.models, id).generate(request(id, { temperature: 0.3, maxTokens: 500 }));
    }
    for (const call of fake.calls) {
      expect(call.body).toMatchObject({ max_completion_tokens: 500 });
      expect(call.body).not.toHaveProperty('max_tokens');
      expect(call.body).not.toHaveProperty('temperature');
    }
  });

  it('keeps a multi-turn conversation in order', async () => {
    await modelOf(provider.models, 'gpt-4.1-mini').generate(
      request('gpt-4.1-mini', {
        messages: [
          { role: 'user', content: 'one' },
          { role: 'assistant', content: 'two' },
          { role: 'user', content: 'three' },
        ],
      }),
    );
    expect(fake.calls[0]?.body).toMatchObject({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'three' },
      ],
    });
  });

  it('streams: deltas in order, whole text, exact usage from the usage chunk', async () => {
    fake.enqueue({ type: 'answer', usage: { inputTokens: 33, outputTokens: 9 }, finishReason: 'length' });
    const { result, deltas } = await streamed(
      modelOf(provider.models, 'gpt-4.1-mini'),
      request('gpt-4.1-mini', { maxTokens: 9 }),
    );
    expect(deltas.length).toBe(3);
    expect(deltas.join('')).toBe('Paris is the capital of France.');
    expect(result).toEqual({
      text: 'Paris is the capital of France.',
      usage: { inputTokens: 33, outputTokens: 9 },
      finishReason: 'length',
      upstreamRequestId: 'req_fake_0',
    });
    expect(fake.calls[0]?.body).toMatchObject({
      model: 'gpt-4.1-mini',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 9,
    });
    expect(fake.calls[0]?.headers.accept ?? '').not.toBe('');
  });

  it('answers deterministically from the prompt by default', async () => {
    fake.options.text = undefined;
    try {
      const result = await modelOf(provider.models, 'gpt-4.1-mini').generate(request('gpt-4.1-mini'));
      expect(result.text).toBe('gpt-4.1-mini answers: What is the capital of France');
    } finally {
      fake.options.text = 'Paris is the capital of France.';
    }
  });

  it('reports availability from GET /models, cached for 30 s', async () => {
    let now = 1_000_000;
    const cached = createOpenAIProvider(adapterSettings('openai', fake.url, [adapterModel('gpt-4.1-mini')]), {
      now: () => now,
    });
    const first = await cached.checkAvailability();
    expect(first).toEqual({ available: true, checkedAt: new Date(1_000_000).toISOString() });
    expect(fake.requests.map((call) => `${call.method} ${call.path}`)).toEqual(['GET /v1/models']);
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);

    now += 29_000;
    fake.setModelsReply({ type: 'error', status: 401 });
    expect(await cached.checkAvailability()).toBe(first);
    expect(fake.requests).toHaveLength(1);

    now += 2_000;
    const second = await cached.checkAvailability();
    expect(second.available).toBe(false);
    expect(second.reason).toBe('openai answered 401 (authentication failed)');
    expect(fake.requests).toHaveLength(2);
  });

  it('shares one probe between concurrent availability checks', async () => {
    const shared = createOpenAIProvider(adapterSettings('openai', fake.url, [adapterModel('gpt-4.1-mini')]));
    const results = await Promise.all([shared.checkAvailability(), shared.checkAvailability()]);
    expect(results[0]).toBe(results[1]);
    expect(fake.requests).toHaveLength(1);
  });

  it('gives up on a probe that hangs, and a caller can stop waiting without throwing', async () => {
    fake.setModelsReply({ type: 'hang' });
    const slow = createOpenAIProvider(adapterSettings('openai', fake.url, [adapterModel('gpt-4.1-mini')]), {
      timeoutMs: 50,
    });
    const controller = new AbortController();
    const waiting = slow.checkAvailability(controller.signal);
    controller.abort();
    expect(await waiting).toMatchObject({ available: false, reason: 'the availability check was cancelled' });
    expect(await slow.checkAvailability()).toMatchObject({
      available: false,
      reason: 'openai call failed (timed out: the call took too long)',
    });
  });

  it('without a key: calls fail with auth_failed and nothing is sent', async () => {
    const keyless = createOpenAIProvider(
      adapterSettings('openai', fake.url, [adapterModel('gpt-4.1-mini')], { apiKey: undefined }),
    );
    await expect(
      modelOf(keyless.models, 'gpt-4.1-mini').generate(request('gpt-4.1-mini')),
    ).rejects.toMatchObject({
      code: 'auth_failed',
      retryable: false,
    });
    expect(await keyless.checkAvailability()).toMatchObject({
      available: false,
      reason: 'no API key is configured',
    });
    expect(fake.requests).toHaveLength(0);
  });
});
