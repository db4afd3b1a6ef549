/**
 * The whole service over real HTTP, with the real OpenAI and Anthropic SDKs
 * talking to local fake upstreams: a `standard` analysis across three
 * providers at once (OpenAI, Anthropic, OpenAI-compatible), what every
 * upstream received, exact usage and cost, settings adaptation with
 * warnings, and provider availability steering (never refusing) the choice
 * of models.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  AnalysisRecord,
  ModelResponse as ResponseRecord,
  StageRecord,
} from '../../src/analyses/record.js';
import type { ModelConfig, ProviderConfig } from '../../src/config/types.js';
import { PLACEHOLDER_API_KEY } from '../../src/providers/openai-compatible/index.js';
import { json, startApp, type TestApp } from '../support/app.js';
import { type FakeAnthropicOptions, startFakeAnthropic } from '../support/fake-anthropic.js';
import { startFakeOpenAI } from '../support/fake-openai.js';
import { type FakeUpstream, type RecordedRequest, refusedURL } from '../support/fake-server.js';

// Anthropic models are named claude-opus-4-5 / claude-haiku-4-5: the installed SDK console.warns on
// every call to claude-sonnet-4-5 (listed as deprecated), which would only add noise here.
const OPENAI_KEY = 'sk-test-openai';
const ANTHROPIC_KEY = 'sk-ant-test';
const SYSTEM = 'You are terse and precise.';

type Stage = 'initial' | 'meta' | 'synthesis';

interface Usage {
  inputTokens: number;
  outputTokens: number;
}

interface ModelEntry {
  id: string;
  provider: string;
  model: string;
  weight: number;
  tags: string[];
  capabilities: { streaming: boolean; contextWindow: number | null; maxOutputTokens: number | null };
  pricing: { inputCostPerMTok: number; outputCostPerMTok: number };
  available: boolean;
  circuit: string;
  stats: { requests: number; failures: number; p50LatencyMs: number | null };
}

interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
}

interface MessagesBody {
  model: string;
  system?: string;
  messages: { role: string; content: string }[];
  stream?: boolean;
  temperature?: number;
  max_tokens?: number;
}

function model(id: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return { id, weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [], ...extra };
}

/** Which stage of `standard` a generation request belongs to, from its user message. */
function stageOf(userText: string): Stage {
  if (userText.includes('You are writing the final answer')) return 'synthesis';
  if (userText.includes('write a meta-analysis')) return 'meta';
  return 'initial';
}

const lastUser = (messages: { role: string; content: string }[]): string =>
  messages.filter((message) => message.role === 'user').at(-1)?.content ?? '';

const bodyOf = <T>(request: RecordedRequest): T => request.body as T;

/** Per model and stage: what the fake answers and the usage it reports. */
const SCRIPT: Record<string, Record<Stage, Usage>> = {
  'gpt-4.1-mini': {
    initial: { inputTokens: 11, outputTokens: 21 },
    meta: { inputTokens: 101, outputTokens: 201 },
    synthesis: { inputTokens: 1001, outputTokens: 2001 },
  },
  'claude-opus-4-5': {
    initial: { inputTokens: 13, outputTokens: 23 },
    meta: { inputTokens: 103, outputTokens: 203 },
    synthesis: { inputTokens: 1003, outputTokens: 2003 },
  },
  'llama3.2': {
    initial: { inputTokens: 17, outputTokens: 27 },
    meta: { inputTokens: 107, outputTokens: 207 },
    synthesis: { inputTokens: 1007, outputTokens: 2007 },
  },
};

const PRICES: Record<string, { inputCostPerMTok: number; outputCostPerMTok: number }> = {
  'openai/gpt-4.1-mini': { inputCostPerMTok: 0.4, outputCostPerMTok: 1.6 },
  'anthropic/claude-opus-4-5': { inputCostPerMTok: 3, outputCostPerMTok: 15 },
  'local/llama3.2': { inputCostPerMTok: 0.1, outputCostPerMTok: 0.2 },
};

const answerText = (modelName: string, stage: Stage) => `${modelName} says ${stage} things clearly.`;

/** Installs a handler answering every generation call with the scripted text and usage. */
function scriptOpenAIStyle(fake: FakeUpstream): void {
  fake.setHandler((request) => {
    if (request.path !== '/v1/chat/completions') return undefined;
    const body = bodyOf<ChatBody>(request);
    const stage = stageOf(lastUser(body.messages));
    return {
      type: 'answer',
      text: answerText(body.model, stage),
      usage: SCRIPT[body.model]?.[stage] ?? { inputTokens: 1, outputTokens: 1 },
      chunks: 3,
    };
  });
}

function scriptAnthropic(fake: FakeUpstream): void {
  fake.setHandler((request) => {
    if (request.path !== '/v1/messages') return undefined;
    const body = bodyOf<MessagesBody>(request);
    const stage = stageOf(lastUser(body.messages));
    return {
      type: 'answer',
      text: answerText(body.model, stage),
      usage: SCRIPT[body.model]?.[stage] ?? { inputTokens: 1, outputTokens: 1 },
      chunks: 3,
    };
  });
}

const post = (app: TestApp, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function runToEnd(app: TestApp, body: unknown): Promise<AnalysisRecord> {
  const response = await post(app, body, { prefer: 'wait=30' });
  expect(response.status).toBe(200);
  expect(response.headers.get('preference-applied')).toBe('wait=30');
  return json<AnalysisRecord>(response);
}

/** Polls the record until it has ended (for requests answered 202). */
async function waitForEnd(app: TestApp, self: string): Promise<AnalysisRecord> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${app.url}${self}`);
    expect(response.status).toBe(200);
    const record = await json<AnalysisRecord>(response);
    if (['succeeded', 'failed', 'cancelled'].includes(record.status)) return record;
    if (Date.now() > deadline) throw new Error(`analysis still ${record.status}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const stage = (record: AnalysisRecord, name: string): StageRecord => {
  const found = record.stages.find((entry) => entry.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};

const responseOf = (record: AnalysisRecord, stageName: string, modelId: string): ResponseRecord => {
  const found = stage(record, stageName).responses.find((entry) => entry.model === modelId);
  if (!found) throw new Error(`no response of ${modelId} in ${stageName}`);
  return found;
};

const costOf = (modelId: string, usage: Usage): number =>
  (usage.inputTokens * PRICES[modelId]!.inputCostPerMTok +
    usage.outputTokens * PRICES[modelId]!.outputCostPerMTok) /
  1_000_000;

const FAST_RETRY = { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, totalTimeMs: 5_000 } };

describe('a standard analysis across OpenAI, Anthropic and an OpenAI-compatible server', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let compatible: FakeUpstream;
  let app: TestApp | undefined;

  const providers = (): ProviderConfig[] => [
    {
      name: 'openai',
      kind: 'openai',
      baseURL: openai.url,
      apiKey: OPENAI_KEY,
      timeoutMs: 10_000,
      source: 'test',
      models: [
        model('gpt-4.1-mini', { weight: 2, ...PRICES['openai/gpt-4.1-mini'] }),
        model('o4-mini', { weight: 1, reasoning: true, inputCostPerMTok: 1.1, outputCostPerMTok: 4.4 }),
      ],
    },
    {
      name: 'anthropic',
      kind: 'anthropic',
      baseURL: anthropic.url,
      apiKey: ANTHROPIC_KEY,
      timeoutMs: 10_000,
      source: 'test',
      models: [
        model('claude-opus-4-5', {
          weight: 3,
          maxOutputTokens: 8192,
          ...PRICES['anthropic/claude-opus-4-5'],
        }),
      ],
    },
    {
      name: 'local',
      kind: 'openai-compatible',
      baseURL: compatible.url,
      timeoutMs: 10_000,
      source: 'test',
      models: [model('llama3.2', { weight: 1, ...PRICES['local/llama3.2'] })],
    },
  ];

  const MODELS = ['openai/gpt-4.1-mini', 'anthropic/claude-opus-4-5', 'local/llama3.2'];

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    // A provisional output count on message_start that must be replaced, not added.
    anthropic = await startFakeAnthropic({ provisionalOutputTokens: 999 } satisfies FakeAnthropicOptions);
    compatible = await startFakeOpenAI({ models: ['llama3.2'] });
  });
  afterAll(async () => {
    await Promise.all([openai.close(), anthropic.close(), compatible.close()]);
  });
  beforeEach(async () => {
    for (const fake of [openai, compatible]) {
      fake.reset();
      scriptOpenAIStyle(fake);
    }
    anthropic.reset();
    scriptAnthropic(anthropic);
    app = await startApp({ providers: providers(), caller: FAST_RETRY });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('succeeds with every model answering in every stage, streamed through the real SDKs', async () => {
    const prompt = 'How should a small team choose a database?';
    const record = await runToEnd(app!, { prompt, system: SYSTEM, models: MODELS });

    expect(record.status).toBe('succeeded');
    expect(record.error).toBeNull();
    expect(record.models).toEqual(MODELS);
    // The highest-weight model among those selected.
    expect(record.synthesisModel).toBe('anthropic/claude-opus-4-5');
    expect(record.stages.map((entry) => [entry.name, entry.status])).toEqual([
      ['initial', 'succeeded'],
      ['meta', 'succeeded'],
      ['synthesis', 'succeeded'],
    ]);

    const modelName = (id: string) => id.split('/')[1]!;
    for (const stageName of ['initial', 'meta'] as const) {
      expect(
        stage(record, stageName)
          .responses.map((entry) => entry.model)
          .sort(),
      ).toEqual([...MODELS].sort());
      for (const id of MODELS) {
        const response = responseOf(record, stageName, id);
        expect(response.status).toBe('succeeded');
        expect(response.text).toBe(answerText(modelName(id), stageName));
        expect(response.error).toBeNull();
        expect(response.attempts).toBe(1);
        expect(response.cached).toBe(false);
      }
    }
    expect(stage(record, 'synthesis').responses.map((entry) => entry.model)).toEqual([
      'anthropic/claude-opus-4-5',
    ]);
    expect(record.result).toMatchObject({
      text: answerText('claude-opus-4-5', 'synthesis'),
      model: 'anthropic/claude-opus-4-5',
      fallbackFrom: null,
      degraded: false,
    });

    // Every meta-analysis saw every initial answer.
    const metaPrompts = [
      ...openai.calls.map((call) => lastUser(bodyOf<ChatBody>(call).messages)),
      ...compatible.calls.map((call) => lastUser(bodyOf<ChatBody>(call).messages)),
      ...anthropic.calls.map((call) => lastUser(bodyOf<MessagesBody>(call).messages)),
    ].filter((text) => stageOf(text) === 'meta');
    expect(metaPrompts).toHaveLength(3);
    for (const text of metaPrompts) {
      expect(text).toContain(prompt);
      for (const id of MODELS) expect(text).toContain(answerText(modelName(id), 'initial'));
    }
  });

  it('sends each upstream its own key, model, messages and streaming parameters', async () => {
    const prompt = 'What makes a good API?';
    const record = await runToEnd(app!, { prompt, system: SYSTEM, models: MODELS });
    expect(record.status).toBe('succeeded');

    // OpenAI: initial + meta, streamed with a final usage chunk, the system prompt as a system message.
    expect(openai.calls).toHaveLength(2);
    for (const call of openai.calls) {
      expect(call.method).toBe('POST');
      expect(call.path).toBe('/v1/chat/completions');
      expect(call.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
      const body = bodyOf<ChatBody>(call);
      expect(body.model).toBe('gpt-4.1-mini');
      expect(body.stream).toBe(true);
      expect(body.stream_options).toEqual({ include_usage: true });
      expect(body.messages[0]).toEqual({ role: 'system', content: SYSTEM });
      expect(body.messages.slice(1).map((message) => message.role)).toEqual(['user']);
      expect(body).not.toHaveProperty('temperature');
    }
    const openaiInitial = openai.calls.find(
      (call) => stageOf(lastUser(bodyOf<ChatBody>(call).messages)) === 'initial',
    );
    expect(bodyOf<ChatBody>(openaiInitial!).messages).toEqual([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: prompt },
    ]);

    // OpenAI-compatible: the same wire format, no real key (the placeholder the client needs).
    expect(compatible.calls).toHaveLength(2);
    for (const call of compatible.calls) {
      expect(call.path).toBe('/v1/chat/completions');
      expect(call.headers.authorization).toBe(`Bearer ${PLACEHOLDER_API_KEY}`);
      expect(call.headers.authorization).not.toContain(OPENAI_KEY);
      expect(call.headers.authorization).not.toContain(ANTHROPIC_KEY);
      expect(call.headers['x-api-key']).toBeUndefined();
      const body = bodyOf<ChatBody>(call);
      expect(body.model).toBe('llama3.2');
      expect(body.stream).toBe(true);
      expect(body.stream_options).toEqual({ include_usage: true });
      expect(body.messages[0]).toEqual({ role: 'system', content: SYSTEM });
    }

    // Anthropic: initial + meta + synthesis; top-level system, max_tokens always present.
    expect(anthropic.calls).toHaveLength(3);
    for (const call of anthropic.calls) {
      expect(call.method).toBe('POST');
      expect(call.path).toBe('/v1/messages');
      // @anthropic-ai/sdk 1.x sends the key as a bearer token (see anthropic.test.ts).
      expect(call.headers.authorization).toBe(`Bearer ${ANTHROPIC_KEY}`);
      expect(call.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const body = bodyOf<MessagesBody>(call);
      expect(body.model).toBe('claude-opus-4-5');
      expect(body.stream).toBe(true);
      expect(body.system).toBe(SYSTEM);
      expect(body.messages.every((message) => message.role === 'user')).toBe(true);
      expect(body.messages).toHaveLength(1);
      // No maxTokens in the request: the model's configured maximum.
      expect(body.max_tokens).toBe(8192);
      expect(body).not.toHaveProperty('temperature');
    }
    expect(
      anthropic.calls.map((call) => stageOf(lastUser(bodyOf<MessagesBody>(call).messages))).sort(),
    ).toEqual(['initial', 'meta', 'synthesis']);

    // The keys never cross providers.
    for (const call of openai.calls) expect(JSON.stringify(call.headers)).not.toContain(ANTHROPIC_KEY);
    for (const call of anthropic.calls) expect(JSON.stringify(call.headers)).not.toContain(OPENAI_KEY);
  });

  it('adds usage exactly as each upstream reported it and prices it per model', async () => {
    const record = await runToEnd(app!, {
      prompt: 'Usage accounting, please.',
      system: SYSTEM,
      models: MODELS,
    });
    expect(record.status).toBe('succeeded');

    const expectedResponses: { stage: Stage; model: string; usage: Usage }[] = [
      ...(['initial', 'meta'] as const).flatMap((stageName) =>
        MODELS.map((id) => ({ stage: stageName, model: id, usage: SCRIPT[id.split('/')[1]!]![stageName] })),
      ),
      {
        stage: 'synthesis',
        model: 'anthropic/claude-opus-4-5',
        usage: SCRIPT['claude-opus-4-5']!.synthesis,
      },
    ];
    for (const expected of expectedResponses) {
      const response = responseOf(record, expected.stage, expected.model);
      // Anthropic: message_delta's cumulative count (e.g. 23) replaces message_start's provisional 999.
      expect(response.usage).toEqual(expected.usage);
      expect(response.costUsd).toBeCloseTo(costOf(expected.model, expected.usage), 12);
    }
    const allResponses = record.stages.flatMap((entry) => entry.responses);
    expect(allResponses).toHaveLength(expectedResponses.length);

    const inputTokens = expectedResponses.reduce((sum, entry) => sum + entry.usage.inputTokens, 0);
    const outputTokens = expectedResponses.reduce((sum, entry) => sum + entry.usage.outputTokens, 0);
    // 11+13+17 + 101+103+107 + 1003 and 21+23+27 + 201+203+207 + 2003
    expect(inputTokens).toBe(1355);
    expect(outputTokens).toBe(2685);
    expect(record.usage.inputTokens).toBe(inputTokens);
    expect(record.usage.outputTokens).toBe(outputTokens);
    const costUsd = expectedResponses.reduce((sum, entry) => sum + costOf(entry.model, entry.usage), 0);
    expect(record.usage.costUsd).toBeCloseTo(costUsd, 12);
    // Hand-computed: (0.4·112 + 1.6·222 + 3·1119 + 15·2229 + 0.1·124 + 0.2·234) / 1e6
    expect(record.usage.costUsd).toBeCloseTo(0.037_251_2, 12);
  });

  it('clamps temperature 1.5 to 1 for Anthropic with a warning and leaves OpenAI-style models unchanged', async () => {
    const record = await runToEnd(app!, {
      prompt: 'A warm answer, please.',
      system: SYSTEM,
      models: MODELS,
      options: { temperature: 1.5 },
    });
    expect(record.status).toBe('succeeded');

    const temperatureWarnings = record.warnings.filter((warning) => /temperature/i.test(warning));
    expect(temperatureWarnings).toHaveLength(1);
    expect(temperatureWarnings[0]).toContain('anthropic/claude-opus-4-5');
    expect(temperatureWarnings[0]).toContain('1.5');
    expect(temperatureWarnings[0]).toMatch(/\b1\b/);
    for (const warning of record.warnings) {
      expect(warning).not.toContain('openai/gpt-4.1-mini');
      expect(warning).not.toContain('local/llama3.2');
    }

    expect(anthropic.calls).toHaveLength(3);
    for (const call of anthropic.calls) expect(bodyOf<MessagesBody>(call).temperature).toBe(1);
    for (const call of [...openai.calls, ...compatible.calls]) {
      expect(bodyOf<ChatBody>(call).temperature).toBe(1.5);
    }
  });

  it('sends a reasoning model no temperature and says so; its output limit goes as max_completion_tokens', async () => {
    const record = await runToEnd(app!, {
      prompt: 'Think it through.',
      models: ['openai/o4-mini', 'openai/gpt-4.1-mini'],
      options: { temperature: 0.7, maxTokens: 500 },
    });
    expect(record.status).toBe('succeeded');
    expect(record.synthesisModel).toBe('openai/gpt-4.1-mini');

    const reasoningWarnings = record.warnings.filter((warning) => warning.includes('openai/o4-mini'));
    expect(reasoningWarnings).toHaveLength(1);
    expect(reasoningWarnings[0]).toMatch(/temperature/i);
    expect(record.warnings.some((warning) => warning.includes('openai/gpt-4.1-mini'))).toBe(false);

    const calls = openai.calls.map((call) => bodyOf<ChatBody>(call));
    const reasoning = calls.filter((body) => body.model === 'o4-mini');
    const regular = calls.filter((body) => body.model === 'gpt-4.1-mini');
    expect(reasoning).toHaveLength(2);
    expect(regular).toHaveLength(3);
    for (const body of reasoning) {
      expect(body).not.toHaveProperty('temperature');
      expect(body.max_completion_tokens).toBe(500);
      expect(body).not.toHaveProperty('max_tokens');
    }
    for (const body of regular) {
      expect(body.temperature).toBe(0.7);
      expect(body.max_tokens).toBe(500);
    }
  });
});

describe('provider availability steers the default selection and never refuses a model', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let downURL: string;
  let app: TestApp | undefined;

  const providers = (): ProviderConfig[] => [
    {
      name: 'down',
      kind: 'openai-compatible',
      baseURL: downURL,
      timeoutMs: 5_000,
      source: 'test',
      // The heaviest model of all: the default selection would take it if it ignored availability.
      models: [model('big', { weight: 10 })],
    },
    {
      name: 'openai',
      kind: 'openai',
      baseURL: openai.url,
      apiKey: OPENAI_KEY,
      timeoutMs: 5_000,
      source: 'test',
      models: [model('gpt-4.1-mini', { weight: 5 }), model('gpt-4.1', { weight: 4 })],
    },
    {
      name: 'anthropic',
      kind: 'anthropic',
      baseURL: anthropic.url,
      apiKey: ANTHROPIC_KEY,
      timeoutMs: 5_000,
      source: 'test',
      models: [model('claude-opus-4-5', { weight: 3 }), model('claude-haiku-4-5', { weight: 1 })],
    },
  ];

  const TOP_AVAILABLE = ['openai/gpt-4.1-mini', 'openai/gpt-4.1', 'anthropic/claude-opus-4-5'];

  beforeAll(async () => {
    openai = await startFakeOpenAI({ text: 'An OpenAI answer.' });
    anthropic = await startFakeAnthropic({ text: 'An Anthropic answer.' });
    downURL = await refusedURL();
  });
  afterAll(async () => {
    await Promise.all([openai.close(), anthropic.close()]);
  });
  beforeEach(async () => {
    openai.reset();
    anthropic.reset();
    app = await startApp({ providers: providers(), caller: FAST_RETRY });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const listModels = async (): Promise<ModelEntry[]> => {
    const response = await fetch(`${app!.url}/v1/models`);
    expect(response.status).toBe(200);
    return (await json<{ data: ModelEntry[] }>(response)).data;
  };

  it('GET /v1/models shows which providers answer', async () => {
    const models = await listModels();
    expect(models.map((entry) => entry.id)).toEqual([
      'down/big',
      'openai/gpt-4.1-mini',
      'openai/gpt-4.1',
      'anthropic/claude-opus-4-5',
      'anthropic/claude-haiku-4-5',
    ]);
    const availability = Object.fromEntries(models.map((entry) => [entry.id, entry.available]));
    expect(availability).toEqual({
      'down/big': false,
      'openai/gpt-4.1-mini': true,
      'openai/gpt-4.1': true,
      'anthropic/claude-opus-4-5': true,
      'anthropic/claude-haiku-4-5': true,
    });
    const down = models.find((entry) => entry.id === 'down/big')!;
    expect(down).toMatchObject({ provider: 'down', model: 'big', weight: 10, circuit: 'closed' });
    // The probes reached the live upstreams with their keys.
    const openaiProbe = openai.requests.find((request) => request.path === '/v1/models');
    expect(openaiProbe?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    const anthropicProbe = anthropic.requests.find((request) => request.path === '/v1/models');
    expect(anthropicProbe?.headers.authorization).toBe(`Bearer ${ANTHROPIC_KEY}`);
  });

  it('the default selection takes the top available models by weight, skipping the one that is down', async () => {
    await listModels();
    const record = await runToEnd(app!, { prompt: 'Pick for me.' });
    expect(record.status).toBe('succeeded');
    expect(record.models).toEqual(TOP_AVAILABLE);
    expect(record.synthesisModel).toBe('openai/gpt-4.1-mini');
    expect(
      record.stages.flatMap((entry) => entry.responses).every((entry) => entry.status === 'succeeded'),
    ).toBe(true);
  });

  // The contract: "default: the selector picks the top available models by weight". A client that
  // never called GET /v1/models first should not get a model whose provider refuses connections.
  it('the default selection skips a provider that is down even before anyone listed the models', async () => {
    const record = await runToEnd(app!, { prompt: 'Pick for me, first thing.' });
    expect(record.models).toEqual(TOP_AVAILABLE);
    expect(record.models).not.toContain('down/big');
    expect(record.status).toBe('succeeded');
  });

  it('accepts a model whose provider is down when named explicitly: its calls fail with network_error', async () => {
    expect((await listModels()).find((entry) => entry.id === 'down/big')?.available).toBe(false);
    const response = await post(app!, {
      prompt: 'Use the big one.',
      models: ['down/big', 'openai/gpt-4.1-mini'],
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toMatch(/^\/v1\/analyses\/an_/);
    const accepted = await json<AnalysisRecord>(response);
    expect(accepted.models).toEqual(['down/big', 'openai/gpt-4.1-mini']);
    // Synthesis default: the highest-weight *available* model among those named.
    expect(accepted.synthesisModel).toBe('openai/gpt-4.1-mini');

    const record = await waitForEnd(app!, accepted.links.self);
    expect(record.status).toBe('succeeded');
    const failed = responseOf(record, 'initial', 'down/big');
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('network_error');
    expect(failed.error?.message).toBeTruthy();
    expect(failed.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(responseOf(record, 'initial', 'openai/gpt-4.1-mini').status).toBe('succeeded');
    expect(record.result?.model).toBe('openai/gpt-4.1-mini');
  });

  it('an explicitly named synthesis model that is down falls back to the next by weight', async () => {
    const response = await post(
      app!,
      {
        prompt: 'Synthesize with the big one.',
        models: ['down/big', 'openai/gpt-4.1-mini', 'anthropic/claude-opus-4-5'],
        synthesisModel: 'down/big',
      },
      { prefer: 'wait=30' },
    );
    expect(response.status).toBe(200);
    const record = await json<AnalysisRecord>(response);
    expect(record.status).toBe('succeeded');
    expect(record.synthesisModel).toBe('down/big');
    expect(responseOf(record, 'initial', 'down/big').error?.code).toBe('network_error');
    expect(responseOf(record, 'synthesis', 'down/big').error?.code).toBe('network_error');
    expect(record.result).toMatchObject({
      model: 'openai/gpt-4.1-mini',
      fallbackFrom: 'down/big',
      degraded: false,
      text: 'An OpenAI answer.',
    });
  });

  it('a model that is not configured is a 422 naming the configured ones', async () => {
    const response = await post(app!, { prompt: 'x', models: ['openai/gpt-4.1-mini', 'nope/never'] });
    expect(response.status).toBe(422);
    const problem = await json<{ errors: { path: string; message: string }[] }>(response);
    expect(problem.errors[0]?.path).toBe('/models/1');
    expect(problem.errors[0]?.message).toContain('down/big');
    expect(problem.errors[0]?.message).toContain('openai/gpt-4.1-mini');
  });
});
