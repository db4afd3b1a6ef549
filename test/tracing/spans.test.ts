/**
 * Traces over OTLP/HTTP to a local receiver, on both stores: a `standard`
 * analysis submitted with a `traceparent` is one trace — the request's span,
 * `analysis standard`, a span per stage and, under each, a `chat <model>`
 * span per call with its GenAI attributes, a retry as a span event and a
 * failure as `error.type` — and every upstream request carries the context
 * of its call's span. Prompts and answers appear only when content capture
 * is on; without an endpoint nothing is exported and nothing is sent upstream.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import type { ProviderConfig } from '../../src/config/types.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { type FakeUpstream, type RecordedRequest, startFakeOpenAI } from '../support/fake-openai.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/fake-otlp.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
const PROMPT = 'Why is the sky blue at noon?';
const FAST_RETRY = { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, totalTimeMs: 5_000 } };

type Stage = 'initial' | 'meta' | 'synthesis';
const stageOf = (text: string): Stage =>
  text.includes('You are writing the final answer')
    ? 'synthesis'
    : text.includes('write a meta-analysis')
      ? 'meta'
      : 'initial';

interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
}
const bodyOf = (request: RecordedRequest) => request.body as ChatBody;
const userText = (body: ChatBody) => body.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

/**
 * gpt-a answers everything; gpt-b is rate limited once in `initial`, then
 * answers; gpt-c is refused (400) in `initial`, so it takes no further part.
 */
function script(fake: FakeUpstream): void {
  let limited = false;
  fake.setHandler((request) => {
    if (request.path !== '/v1/chat/completions') return undefined;
    const body = bodyOf(request);
    const stage = stageOf(userText(body));
    if (body.model === 'gpt-c') return { type: 'error', status: 400 };
    if (body.model === 'gpt-b' && stage === 'initial' && !limited) {
      limited = true;
      return { type: 'error', status: 429 };
    }
    const base = body.model === 'gpt-a' ? 10 : 20;
    const offset = { initial: 1, meta: 2, synthesis: 3 }[stage];
    return {
      type: 'answer',
      text: `${body.model} on ${stage}`,
      usage: { inputTokens: base + offset, outputTokens: 2 * (base + offset) },
      chunks: 2,
    };
  });
}

const providers = (fake: FakeUpstream): ProviderConfig[] => [
  {
    name: 'openai',
    kind: 'openai',
    baseURL: fake.url,
    apiKey: 'sk-test',
    timeoutMs: 10_000,
    source: 'test',
    models: ['gpt-a', 'gpt-b', 'gpt-c'].map((id, index) => ({
      id,
      weight: 3 - index,
      inputCostPerMTok: 0,
      outputCostPerMTok: 0,
      tags: [],
    })),
  },
];

async function analyse(app: TestApp, headers: Record<string, string> = {}): Promise<AnalysisRecord> {
  const response = await fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'wait=30', ...headers },
    body: JSON.stringify({
      prompt: PROMPT,
      system: 'Be brief.',
      models: ['openai/gpt-a', 'openai/gpt-b', 'openai/gpt-c'],
      options: { temperature: 0.3, maxTokens: 256, cache: false },
    }),
  });
  expect(response.status).toBe(200);
  return json<AnalysisRecord>(response);
}

const named = (spans: ReceivedSpan[], name: string) => spans.filter((span) => span.name === name);
const one = (spans: ReceivedSpan[], name: string) => {
  const found = named(spans, name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
};

describe.each(STORES)('traces of an analysis ($name store)', ({ env }) => {
  let fake: FakeUpstream;
  let otlp: OtlpReceiver;
  let app: TestApp | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    otlp = await startOtlpReceiver();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    fake.reset();
    otlp.requests.length = 0;
    otlp.spans.length = 0;
  });
  afterAll(async () => {
    await fake.close();
    await otlp.close();
  });

  const start = (extra: Record<string, string>) =>
    startApp({ env: { ...env, ...extra }, providers: providers(fake), caller: FAST_RETRY });

  it('continues the caller’s trace: request → analysis → stages → model calls, with GenAI attributes', async () => {
    script(fake);
    app = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const record = await analyse(app, { traceparent: TRACEPARENT });
    expect(record.status).toBe('succeeded');
    await app.app.chorus.tracing!.flush();
    const spans = otlp.spans;
    expect(otlp.requests.every((request) => request.path === '/v1/traces')).toBe(true);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([TRACE_ID]));
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['chorus']));

    const server = one(spans, 'POST /v1/analyses');
    expect(server.parentSpanId).toBe(CALLER_SPAN);
    expect(server.kind).toBe(2); // SERVER
    expect(server.attributes['http.response.status_code']).toBe(200);
    const analysis = one(spans, 'analysis standard');
    expect(analysis.parentSpanId).toBe(server.spanId);
    expect(analysis.attributes['chorus.analysis.id']).toBe(record.id);
    expect(analysis.attributes['chorus.status']).toBe('succeeded');

    for (const name of ['initial', 'meta', 'synthesis']) {
      const stage = one(spans, `stage ${name}`);
      expect(stage.parentSpanId).toBe(analysis.spanId);
      const stageRecord = record.stages.find((entry) => entry.name === name)!;
      const chats = spans.filter((span) => span.parentSpanId === stage.spanId);
      expect(chats.map((chat) => chat.name).sort()).toEqual(
        stageRecord.responses.map((response) => `chat ${response.model}`).sort(),
      );
      for (const chat of chats) {
        const response = stageRecord.responses.find((entry) => `chat ${entry.model}` === chat.name)!;
        expect(chat.kind).toBe(3); // CLIENT
        expect(chat.attributes).toMatchObject({
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': response.model.slice('openai/'.length),
          'gen_ai.request.temperature': 0.3,
          'gen_ai.request.max_tokens': 256,
        });
        if (response.status === 'succeeded') {
          expect(chat.attributes).toMatchObject({
            'gen_ai.usage.input_tokens': response.usage!.inputTokens,
            'gen_ai.usage.output_tokens': response.usage!.outputTokens,
            'gen_ai.response.finish_reasons': ['stop'],
          });
          expect(chat.attributes['error.type']).toBeUndefined();
        } else {
          expect(chat.attributes['error.type']).toBe(response.error!.code);
          expect(chat.status.code).toBe(2); // ERROR
        }
        // Content is not captured unless asked for.
        expect(chat.attributes['gen_ai.input.messages']).toBeUndefined();
        expect(chat.attributes['gen_ai.output.messages']).toBeUndefined();
      }
    }
    // gpt-c was refused, gpt-b retried once: the retry is an event of its call's span.
    const initial = one(spans, 'stage initial');
    const chatOf = (model: string) =>
      spans.find((span) => span.parentSpanId === initial.spanId && span.name === `chat openai/${model}`)!;
    expect(chatOf('gpt-c').attributes['error.type']).toBe('bad_request');
    expect(chatOf('gpt-b').events).toEqual([
      { name: 'retry', attributes: { 'chorus.attempt': 1, 'error.type': 'rate_limited' } },
    ]);

    // Every upstream request carries its call's span as parent (both attempts of the retried one).
    const chatIds = new Map(spans.filter((s) => s.name.startsWith('chat ')).map((s) => [s.spanId, s]));
    expect(fake.calls.length).toBe(7); // initial: a, b twice, c; meta: a, b; synthesis: a
    for (const call of fake.calls) {
      const [version, traceId, parent, flags] = String(call.headers.traceparent).split('-');
      expect([version, traceId, flags]).toEqual(['00', TRACE_ID, '01']);
      expect(chatIds.get(parent!)?.name).toBe(`chat openai/${bodyOf(call).model}`);
    }
    const retried = fake.calls.filter(
      (call) => bodyOf(call).model === 'gpt-b' && stageOf(userText(bodyOf(call))) === 'initial',
    );
    expect(new Set(retried.map((call) => call.headers.traceparent)).size).toBe(1);
  });

  it('records prompts and answers only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true', async () => {
    script(fake);
    app = await start({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
    });
    const record = await analyse(app);
    await app.app.chorus.tracing!.flush();
    const stage = one(otlp.spans, 'stage initial');
    const chat = otlp.spans.find(
      (span) => span.parentSpanId === stage.spanId && span.name === 'chat openai/gpt-a',
    )!;
    expect(JSON.parse(String(chat.attributes['gen_ai.input.messages']))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: PROMPT }] },
    ]);
    expect(JSON.parse(String(chat.attributes['gen_ai.system_instructions']))).toEqual([
      { type: 'text', content: 'Be brief.' },
    ]);
    expect(JSON.parse(String(chat.attributes['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'gpt-a on initial' }] },
    ]);
    // Without a traceparent the request starts the trace.
    const server = one(otlp.spans, 'POST /v1/analyses');
    expect(server.parentSpanId).toBe('');
    expect(one(otlp.spans, 'analysis standard').traceId).toBe(server.traceId);
    expect(record.status).toBe('succeeded');
  });

  it('exports http/protobuf by default', async () => {
    script(fake);
    app = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: `${otlp.url}/` });
    await analyse(app, { traceparent: TRACEPARENT });
    await app.app.chorus.tracing!.flush();
    expect(otlp.requests.length).toBeGreaterThan(0);
    for (const request of otlp.requests) {
      expect(request.path).toBe('/v1/traces');
      expect(request.headers['content-type']).toBe('application/x-protobuf');
    }
    // The trace id travels as its 16 raw bytes in the protobuf body.
    const body = Buffer.concat(otlp.requests.map((request) => request.body));
    expect(body.includes(Buffer.from(TRACE_ID, 'hex'))).toBe(true);
    expect(body.includes(Buffer.from('analysis standard'))).toBe(true);
  });

  it('exports nothing and sends no trace context upstream when no endpoint is set', async () => {
    script(fake);
    app = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(app.app.chorus.tracing).toBeUndefined();
    const record = await analyse(app, { traceparent: TRACEPARENT });
    expect(record.status).toBe('succeeded');
    await app.close();
    app = undefined;
    expect(otlp.requests).toEqual([]);
    expect(fake.calls.length).toBe(7); // initial: a, b twice, c; meta: a, b; synthesis: a
    for (const call of fake.calls) expect(call.headers.traceparent).toBeUndefined();
  });
});
