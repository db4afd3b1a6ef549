import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createOpenAICompatibleProvider,
  normalizeErrorBody,
  PLACEHOLDER_API_KEY,
} from '../../src/providers/openai-compatible/index.js';
import type { Provider } from '../../src/providers/spec.js';
import { FAKE_BODY_MARKER, type FakeUpstream, refusedURL, startFakeOpenAI } from '../support/fake-openai.js';
import { API_KEY, adapterModel, adapterSettings, failure, modelOf, request, streamed } from './support.js';

describe('OpenAI-compatible adapter', () => {
  let fake: FakeUpstream;
  let provider: Provider;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ text: 'Local models say hello.', chunks: 2 });
    provider = createOpenAICompatibleProvider(
      adapterSettings('openai-compatible', fake.url, [
        adapterModel('llama3.2', { contextWindow: 128_000, maxOutputTokens: 4096 }),
        adapterModel('deepseek-r1', { reasoning: true }),
        adapterModel('gpt-5'),
      ]),
    );
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('describes its models', () => {
    expect(provider.name).toBe('local');
    expect(provider.kind).toBe('openai-compatible');
    expect(modelOf(provider.models, 'llama3.2').id).toBe('local/llama3.2');
    expect(modelOf(provider.models, 'llama3.2').capabilities).toEqual({
      streaming: true,
      contextWindow: 128_000,
      maxOutputTokens: 4096,
      temperature: true,
      maxTemperature: 2,
      requiresMaxTokens: false,
    });
    expect(modelOf(provider.models, 'deepseek-r1').capabilities.temperature).toBe(false);
    // Names are the server's own: no OpenAI name rules apply.
    expect(modelOf(provider.models, 'gpt-5').capabilities.temperature).toBe(true);
  });

  it('refuses a configuration without baseURL', () => {
    expect(() =>
      createOpenAICompatibleProvider(adapterSettings('openai-compatible', undefined, [adapterModel('x')])),
    ).toThrow(/needs a baseURL/);
  });

  it('generates with exact usage and the key as a bearer token', async () => {
    fake.enqueue({ type: 'answer', usage: { inputTokens: 17, outputTokens: 4 } });
    const result = await modelOf(provider.models, 'llama3.2').generate(
      request('llama3.2', { temperature: 0.2, maxTokens: 64 }),
    );
    expect(result).toEqual({
      text: 'Local models say hello.',
      usage: { inputTokens: 17, outputTokens: 4 },
      finishReason: 'stop',
      upstreamRequestId: 'req_fake_0',
    });
    const [call] = fake.calls;
    expect(call?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(call?.body).toEqual({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is the capital of France and why?' },
      ],
      temperature: 0.2,
      max_tokens: 64,
      stream: false,
    });
  });

  it('sends max_tokens (not max_completion_tokens) and no temperature to reasoning models', async () => {
    await modelOf(provider.models, 'deepseek-r1').generate(
      request('deepseek-r1', { temperature: 0.2, maxTokens: 64 }),
    );
    await modelOf(provider.models, 'gpt-5').generate(request('gpt-5', { maxTokens: 64 }));
    expect(fake.calls[0]?.body).toMatchObject({ max_tokens: 64 });
    expect(fake.calls[0]?.body).not.toHaveProperty('temperature');
    expect(fake.calls[1]?.body).toMatchObject({ max_tokens: 64 });
  });

  it('sends a placeholder key when none is configured', async () => {
    const keyless = createOpenAICompatibleProvider(
      adapterSettings('openai-compatible', fake.url, [adapterModel('llama3.2')], { apiKey: undefined }),
    );
    await modelOf(keyless.models, 'llama3.2').generate(request('llama3.2'));
    expect(fake.calls[0]?.headers.authorization).toBe(`Bearer ${PLACEHOLDER_API_KEY}`);
    expect((await keyless.checkAvailability()).available).toBe(true);
  });

  it('streams with exact usage when the server sends a usage chunk', async () => {
    fake.enqueue({ type: 'answer', usage: { inputTokens: 50, outputTokens: 6 } });
    const { result, deltas } = await streamed(modelOf(provider.models, 'llama3.2'), request('llama3.2'));
    expect(deltas).toEqual(['Local models ', 'say hello.']);
    expect(result.usage).toEqual({ inputTokens: 50, outputTokens: 6 });
    expect(fake.calls[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('estimates usage (ceil(chars / 4)) when a stream has no usage chunk', async () => {
    fake.enqueue({ type: 'answer', usage: null });
    const { result } = await streamed(modelOf(provider.models, 'llama3.2'), request('llama3.2'));
    const input = 'You are terse.'.length + 'What is the capital of France and why?'.length;
    expect(result.text).toBe('Local models say hello.');
    expect(result.usage).toEqual({
      inputTokens: Math.ceil(input / 4),
      outputTokens: Math.ceil('Local models say hello.'.length / 4),
    });
  });

  it('estimates usage when a JSON answer has none', async () => {
    fake.enqueue({ type: 'answer', usage: null });
    const result = await modelOf(provider.models, 'llama3.2').generate(
      request('llama3.2', { system: undefined }),
    );
    expect(result.usage).toEqual({
      inputTokens: Math.ceil('What is the capital of France and why?'.length / 4),
      outputTokens: Math.ceil('Local models say hello.'.length / 4),
    });
  });

  it('counts a server without GET /models as available when it answers at all', async () => {
    let now = 0;
    const local = createOpenAICompatibleProvider(
      adapterSettings('openai-compatible', fake.url, [adapterModel('llama3.2')]),
      { now: () => now },
    );
    fake.setModelsReply({ type: 'error', status: 404, body: 'Not Found' });
    expect(await local.checkAvailability()).toMatchObject({ available: true });
    now += 31_000;
    fake.setModelsReply({ type: 'error', status: 500 });
    expect(await local.checkAvailability()).toMatchObject({
      available: false,
      reason: 'local answered 500 (upstream error)',
    });
  });

  it('is unavailable when nothing listens, and the check never throws', async () => {
    const down = createOpenAICompatibleProvider(
      adapterSettings('openai-compatible', await refusedURL(), [adapterModel('llama3.2')]),
    );
    expect(await down.checkAvailability()).toMatchObject({
      available: false,
      reason: 'local call failed (network error: unreachable)',
    });
  });

  it('fails a call the server redirects, without following it', async () => {
    let followed = 0;
    const target = createServer((_req, res) => {
      followed++;
      res.end('{}');
    });
    const redirecting = createServer((_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/v1` });
      res.end();
    });
    await Promise.all([
      new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve)),
    ]);
    try {
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/v1`;
      const moved = createOpenAICompatibleProvider(
        adapterSettings('openai-compatible', url, [adapterModel('llama3.2')]),
      );
      const error = await failure(streamed(modelOf(moved.models, 'llama3.2'), request('llama3.2')));
      expect(error).toMatchObject({ code: 'network_error', provider: 'local' });
      expect(followed).toBe(0);
    } finally {
      target.close();
      redirecting.close();
    }
  });

  it('understands other error body shapes without repeating them', async () => {
    const cases: { body: unknown; code: string }[] = [
      { body: { error: `${FAKE_BODY_MARKER} context length exceeded` }, code: 'context_length_exceeded' },
      {
        body: { detail: `${FAKE_BODY_MARKER}: This model's maximum context length is 8192 tokens` },
        code: 'context_length_exceeded',
      },
      {
        body: { object: 'error', message: `${FAKE_BODY_MARKER} prompt is too long`, type: 'BadRequestError' },
        code: 'context_length_exceeded',
      },
      { body: { detail: [{ loc: ['body', 'x'], msg: FAKE_BODY_MARKER }] }, code: 'bad_request' },
      { body: `${FAKE_BODY_MARKER} plain text`, code: 'bad_request' },
      { body: { error: FAKE_BODY_MARKER }, code: 'bad_request' },
    ];
    for (const { body, code } of cases) {
      fake.enqueue({ type: 'error', status: 400, body });
      const error = await failure(modelOf(provider.models, 'llama3.2').generate(request('llama3.2')));
      expect(error).toMatchObject({ code, retryable: false, status: 400, provider: 'local' });
      expect(error.message).not.toContain(FAKE_BODY_MARKER);
    }
  });

  it('normalizes error bodies into the OpenAI shape', () => {
    expect(normalizeErrorBody('{"error":"model not loaded"}')).toEqual({
      error: { message: 'model not loaded' },
    });
    expect(normalizeErrorBody('{"detail":"nope"}')).toEqual({ error: { message: 'nope' } });
    expect(normalizeErrorBody('{"message":"m","type":"t","code":400}')).toEqual({
      error: { message: 'm', type: 't', code: '400' },
    });
    expect(normalizeErrorBody('{"error":{"message":"m","type":"t"}}')).toEqual({
      error: { message: 'm', type: 't' },
    });
    expect(normalizeErrorBody('Bad Gateway')).toEqual({ error: { message: 'Bad Gateway' } });
  });
});
