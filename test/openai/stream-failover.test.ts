/**
 * The streamed content adds up to exactly the record's `result.text` when the
 * final stage's first attempt fails mid-stream and is retried, and the stream
 * ends with an error (never a wrong answer) when the final stage fails over to
 * another model after part of the text was sent. Real SDK out to a fake
 * OpenAI upstream; what it received shows the conversation in every call.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import type { ProviderConfig } from '../../src/config/types.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { startFakeOpenAI } from '../support/fake-openai.js';
import type { FakeUpstream } from '../support/fake-server.js';

const ANSWERS: Record<string, string> = {
  'model-a': 'Alpha answers with seven words in total.',
  'model-b': 'Beta has a different answer altogether.',
};

describe.each(STORES)('streamed answers across a final-stage failure ($name store)', ({ env }) => {
  let fake: FakeUpstream;
  let app: TestApp | undefined;
  const providers = (): ProviderConfig[] => [
    {
      name: 'up',
      kind: 'openai',
      baseURL: fake.url,
      apiKey: 'sk-up',
      timeoutMs: 10_000,
      source: 'test',
      models: [
        { id: 'model-a', weight: 2, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] },
        { id: 'model-b', weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] },
      ],
    },
  ];
  /** The first call to model-a fails after two chunks; every other call answers in full. */
  const failFirstCall = () => {
    let failed = false;
    fake.setHandler((request) => {
      const model = (request.body as { model: string }).model;
      const text = ANSWERS[model]!;
      if (model === 'model-a' && !failed) {
        failed = true;
        return { type: 'streamError', afterChunks: 2, text, chunks: 6 };
      }
      return { type: 'answer', text, chunks: 6 };
    });
  };
  const start = async (maxAttempts: number) => {
    app = await startApp({
      env,
      providers: providers(),
      caller: { retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 2, totalTimeMs: 5_000 } },
    });
    return new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: 'unused', maxRetries: 0 });
  };
  const conversation = [
    { role: 'user' as const, content: 'First question' },
    { role: 'assistant' as const, content: 'First answer' },
    { role: 'user' as const, content: 'Second question' },
  ];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(() => fake.close());
  afterEach(async () => {
    await app?.close();
    app = undefined;
    fake.reset();
  });

  it('a retried attempt that says the same: the content is exactly result.text, and every call got the conversation', async () => {
    failFirstCall();
    const client = await start(2);
    const stream = await client.chat.completions.create({
      model: 'chorus/direct',
      messages: conversation,
      stream: true,
      chorus: { models: ['up/model-a', 'up/model-b'] },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let content = '';
    let id = '';
    for await (const chunk of stream) {
      id = chunk.id;
      content += chunk.choices[0]?.delta.content ?? '';
    }
    const record = await json<AnalysisRecord>(await fetch(`${app!.url}/v1/analyses/${id}`));
    expect(record.stages[0]!.responses[0]!.attempts).toBe(2);
    expect(content).toBe(record.result!.text);
    expect(content).toBe(ANSWERS['model-a']);
    expect(fake.calls).toHaveLength(2);
    for (const call of fake.calls) {
      expect((call.body as { messages: unknown }).messages).toEqual(conversation);
    }
  });

  it('a failover to another model after text was sent: the stream ends with an error, not a wrong answer', async () => {
    failFirstCall();
    const client = await start(1);
    const stream = await client.chat.completions.create({
      model: 'chorus/direct',
      messages: conversation,
      stream: true,
      chorus: { models: ['up/model-a', 'up/model-b'] },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let content = '';
    const failure = await (async () => {
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(ANSWERS['model-b']!.startsWith(content)).toBe(false);
    expect(ANSWERS['model-a']!.startsWith(content)).toBe(true);
  });
});
