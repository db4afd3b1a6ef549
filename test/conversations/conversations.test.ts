/**
 * Conversations in the core, over real HTTP and the real provider SDKs: every
 * model call of every stage receives the earlier turns as chat turns in its
 * provider's own format (system top-level for Anthropic), then the stage's
 * template with the last user turn as `{{prompt}}`; follow-ups carry the
 * parent's conversation and answer. What the fake upstreams received is the
 * proof, on both stores.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import type { ProviderConfig } from '../../src/config/types.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { startFakeOpenAI } from '../support/fake-openai.js';
import type { FakeUpstream, RecordedRequest } from '../support/fake-server.js';

interface Turn {
  role: string;
  content: string;
}
interface Body {
  system?: string;
  messages: Turn[];
}

const MODELS = ['openai/gpt-4.1-mini', 'anthropic/claude-opus-4-5'];
const CONVERSATION = [
  { role: 'system', content: 'Answer in one sentence.' },
  { role: 'user', content: 'Which database suits a small team?' },
  { role: 'assistant', content: 'PostgreSQL, usually.' },
  { role: 'user', content: 'And for analytics?' },
];

const post = (app: TestApp, body: unknown) =>
  fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'wait=30' },
    body: JSON.stringify(body),
  });

const bodyOf = (request: RecordedRequest) => request.body as Body;
const generations = (fake: FakeUpstream, path: string) =>
  fake.calls.filter((call) => call.path === path).map(bodyOf);

describe.each(STORES)('conversations ($name store)', ({ env }) => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let app: TestApp | undefined;

  const providers = (): ProviderConfig[] => [
    {
      name: 'openai',
      kind: 'openai',
      baseURL: openai.url,
      apiKey: 'sk-test',
      timeoutMs: 10_000,
      source: 'test',
      models: [{ id: 'gpt-4.1-mini', weight: 2, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] }],
    },
    {
      name: 'anthropic',
      kind: 'anthropic',
      baseURL: anthropic.url,
      apiKey: 'sk-ant-test',
      timeoutMs: 10_000,
      source: 'test',
      models: [
        {
          id: 'claude-opus-4-5',
          weight: 1,
          inputCostPerMTok: 0,
          outputCostPerMTok: 0,
          tags: [],
          maxOutputTokens: 1024,
        },
      ],
    },
  ];

  beforeAll(async () => {
    openai = await startFakeOpenAI({ text: 'Use a column store.' });
    anthropic = await startFakeAnthropic({ text: 'ClickHouse or DuckDB.' });
  });
  afterAll(async () => {
    await Promise.all([openai.close(), anthropic.close()]);
  });
  beforeEach(async () => {
    openai.reset();
    anthropic.reset();
    app = await startApp({ env, providers: providers() });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('sends the earlier turns to every call of every stage, in order, in each provider’s format', async () => {
    const response = await post(app!, { messages: CONVERSATION, system: 'Be precise.', models: MODELS });
    expect(response.status).toBe(200);
    const record = await json<AnalysisRecord>(response);
    expect(record.status).toBe('succeeded');
    expect(record.messages).toEqual(CONVERSATION);
    expect(record.parentId).toBeNull();

    const toOpenAI = generations(openai, '/v1/chat/completions');
    const toAnthropic = generations(anthropic, '/v1/messages');
    // standard: initial and meta for both models, synthesis for the first.
    expect(toOpenAI).toHaveLength(3);
    expect(toAnthropic).toHaveLength(2);
    for (const body of toOpenAI) {
      expect(body.messages.slice(0, 3)).toEqual([
        { role: 'system', content: 'Be precise.\n\nAnswer in one sentence.' },
        { role: 'user', content: 'Which database suits a small team?' },
        { role: 'assistant', content: 'PostgreSQL, usually.' },
      ]);
      expect(body.messages).toHaveLength(4);
      expect(body.messages[3]!.role).toBe('user');
      expect(body.messages[3]!.content).toContain('And for analytics?');
    }
    for (const body of toAnthropic) {
      expect(body.system).toBe('Be precise.\n\nAnswer in one sentence.');
      expect(body.messages.slice(0, 2)).toEqual([
        { role: 'user', content: 'Which database suits a small team?' },
        { role: 'assistant', content: 'PostgreSQL, usually.' },
      ]);
      expect(body.messages).toHaveLength(3);
      expect(body.messages[2]!.content).toContain('And for analytics?');
    }
    // The initial stage's template is the prompt itself: the last turn, as the user wrote it.
    expect(toOpenAI.some((body) => body.messages[3]!.content === 'And for analytics?')).toBe(true);
  });

  it('follows up with continueFrom: the parent’s conversation, its answer, then the new prompt', async () => {
    const first = await json<AnalysisRecord>(
      await post(app!, { prompt: 'Which database suits a small team?', models: MODELS.slice(0, 1) }),
    );
    expect(first.status).toBe('succeeded');
    expect(first.messages).toEqual([{ role: 'user', content: 'Which database suits a small team?' }]);
    openai.reset();

    const response = await post(app!, {
      prompt: 'And for analytics?',
      continueFrom: first.id,
      models: MODELS.slice(0, 1),
    });
    expect(response.status).toBe(200);
    const second = await json<AnalysisRecord>(response);
    expect(second.parentId).toBe(first.id);
    expect(second.messages).toEqual([
      { role: 'user', content: 'Which database suits a small team?' },
      { role: 'assistant', content: first.result!.text },
      { role: 'user', content: 'And for analytics?' },
    ]);
    const calls = generations(openai, '/v1/chat/completions');
    expect(calls).toHaveLength(3);
    for (const body of calls) {
      expect(body.messages.slice(0, 2)).toEqual(second.messages.slice(0, 2));
      expect(body.messages).toHaveLength(3);
      expect(body.messages[2]!.content).toContain('And for analytics?');
    }
    expect(calls[0]!.messages).toEqual(second.messages);
  });

  it('refuses a follow-up on an analysis that is not the caller’s succeeded one with a 422 at /continueFrom', async () => {
    const response = await post(app!, { prompt: 'More?', continueFrom: 'an_nope' });
    expect(response.status).toBe(422);
    const problem = await json<{ errors: { path: string }[] }>(response);
    expect(problem.errors[0]!.path).toBe('/continueFrom');
  });

  it.each([
    [
      'prompt and messages together',
      { prompt: 'x', messages: [{ role: 'user', content: 'y' }] },
      '/messages',
    ],
    ['neither prompt nor messages', { models: MODELS }, '/prompt'],
    [
      'a last turn that is not the user’s',
      {
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
      },
      '/messages',
    ],
    ['an empty conversation', { messages: [] }, '/messages'],
  ])('answers %s with a 400 and a pointer', async (_name, body, path) => {
    const response = await post(app!, body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json<{ errors: { path: string }[] }>(response);
    expect(problem.errors.map((error) => error.path)).toContain(path);
  });
});
