/**
 * `/openai/v1` through the official `openai` SDK against the running
 * service: models, completions streamed and not, usage, the analysis behind
 * each answer, errors in OpenAI's shape, and a disconnect that cancels.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { json, STORES, simModel, simProvider, startApp, type TestApp } from '../support/app.js';

const KEY = 'sk-chorus-test';
const PROVIDERS = [
  simProvider([
    simModel('alpha', { weight: 3, latencyMs: 5 }),
    simModel('beta', { weight: 2, latencyMs: 5 }),
    simModel('slow', { weight: 0.1, latencyMs: 60_000 }),
  ]),
];

describe.each(STORES)('OpenAI-compatible chat completions ($name store)', ({ env }) => {
  let app: TestApp;
  let client: OpenAI;
  const record = async (id: string) =>
    json<AnalysisRecord>(
      await fetch(`${app.url}/v1/analyses/${id}`, { headers: { authorization: `Bearer ${KEY}` } }),
    );

  beforeAll(async () => {
    app = await startApp({ env: { ...env, API_KEYS: KEY }, providers: PROVIDERS });
    client = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: KEY, maxRetries: 0 });
  });
  afterAll(() => app.close());

  it('lists chorus/<pattern> for every pattern and every configured model id', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(
      expect.arrayContaining(['chorus/standard', 'chorus/direct', 'chorus/moa', 'sim/alpha', 'sim/beta']),
    );
  });

  it('answers a non-streamed completion with the analysis’s result and usage summed over every call', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'chorus/standard',
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Why is the sky blue?' }] },
        ],
        max_completion_tokens: 300,
        chorus: { models: ['sim/alpha', 'sim/beta'] },
      } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    const id = response.headers.get('chorus-analysis-id')!;
    expect(data.id).toBe(id);
    const analysis = await record(id);
    expect(analysis.status).toBe('succeeded');
    expect(analysis.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Why is the sky blue?' },
    ]);
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('chorus/standard');
    expect(data.choices[0]!.message).toMatchObject({ role: 'assistant', content: analysis.result!.text });
    expect(data.choices[0]!.finish_reason).toBe('stop');
    const calls = analysis.stages.flatMap((stage) => stage.responses);
    expect(calls).toHaveLength(5);
    const input = calls.reduce((sum, call) => sum + call.usage.inputTokens, 0);
    const output = calls.reduce((sum, call) => sum + call.usage.outputTokens, 0);
    expect(data.usage).toEqual({
      prompt_tokens: input,
      completion_tokens: output,
      total_tokens: input + output,
    });
  });

  it('runs direct on a configured model id', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'sim/beta', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    const analysis = await record(response.headers.get('chorus-analysis-id')!);
    expect(analysis.pattern).toBe('direct');
    expect(analysis.models).toEqual(['sim/beta']);
    expect(data.choices[0]!.message.content).toBe(analysis.result!.text);
  });

  it('streams: role first, earlier stages as reasoning blocks, content adding up to result.text, usage last', async () => {
    const stream = await client.chat.completions.create({
      model: 'chorus/standard',
      messages: [{ role: 'user', content: 'Name three rivers.' }],
      stream: true,
      stream_options: { include_usage: true },
      chorus: { models: ['sim/alpha', 'sim/beta'] },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const id = chunks[0]!.id;
    const analysis = await record(id);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta));
    const content = deltas.map((delta) => delta.content ?? '').join('');
    expect(content).toBe(analysis.result!.text);
    // Live: the synthesis arrives in more than one piece.
    expect(deltas.filter((delta) => delta.content).length).toBeGreaterThan(1);
    const reasoning = deltas
      .map((delta) => (delta as { reasoning_content?: string }).reasoning_content)
      .filter((text): text is string => text !== undefined);
    expect(reasoning).toHaveLength(4);
    expect(reasoning[0]).toMatch(/^\*\*initial · sim\/(alpha|beta)\*\*/);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.total_tokens).toBe(analysis.usage.inputTokens + analysis.usage.outputTokens);
  });

  it('leaves the reasoning out with chorus.reasoning false', async () => {
    const stream = await client.chat.completions.create({
      model: 'chorus/standard',
      messages: [{ role: 'user', content: 'Quiet please.' }],
      stream: true,
      chorus: { models: ['sim/alpha'], reasoning: false },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const deltas: Record<string, unknown>[] = [];
    for await (const chunk of stream) deltas.push(...chunk.choices.map((choice) => ({ ...choice.delta })));
    expect(deltas.some((delta) => 'reasoning_content' in delta)).toBe(false);
  });

  it('cancels the analysis when the client aborts mid-stream', async () => {
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create(
        {
          model: 'chorus/standard',
          messages: [{ role: 'user', content: 'Take your time.' }],
          stream: true,
          chorus: { models: ['sim/alpha', 'sim/slow'], options: { minResponses: 2 } },
        } as OpenAI.ChatCompletionCreateParamsStreaming,
        { signal: controller.signal },
      )
      .withResponse();
    const id = response.headers.get('chorus-analysis-id')!;
    let received = 0;
    for await (const _chunk of stream) {
      received++;
      // The role chunk is in: the client leaves while the slow model is still answering.
      controller.abort();
    }
    expect(received).toBe(1);
    await vi.waitFor(async () => expect((await record(id)).status).toBe('cancelled'), { timeout: 10_000 });
  });

  it('cancels the analysis when the client of a non-streamed request leaves', async () => {
    const controller = new AbortController();
    const pending = client.chat.completions
      .create(
        {
          model: 'chorus/standard',
          messages: [{ role: 'user', content: 'Wait for it.' }],
          chorus: { models: ['sim/alpha', 'sim/slow'], options: { minResponses: 2 } },
        } as never,
        { signal: controller.signal },
      )
      .catch((caught: unknown) => caught);
    const listed = async () =>
      json<{ data: { id: string; status: string }[] }>(
        await fetch(`${app.url}/v1/analyses?limit=1`, { headers: { authorization: `Bearer ${KEY}` } }),
      );
    let id = '';
    await vi.waitFor(async () => {
      const [newest] = (await listed()).data;
      expect(newest?.status).toBe('running');
      id = newest!.id;
    });
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await vi.waitFor(async () => expect((await record(id)).status).toBe('cancelled'), { timeout: 10_000 });
  });

  describe('errors in OpenAI’s shape', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the SDK's error classes differ in their status type
    type ErrorClass = new (...args: any[]) => InstanceType<typeof OpenAI.APIError>;
    const cases: Array<[string, Record<string, unknown>, ErrorClass, number, string | null]> = [
      ['n above 1', { n: 2 }, OpenAI.BadRequestError, 400, 'n'],
      [
        'tools',
        { tools: [{ type: 'function', function: { name: 'f' } }] },
        OpenAI.BadRequestError,
        400,
        'tools',
      ],
      [
        'a json response_format',
        { response_format: { type: 'json_object' } },
        OpenAI.BadRequestError,
        400,
        'response_format',
      ],
      [
        'an image part',
        { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
        OpenAI.BadRequestError,
        400,
        'messages.0.content.0.type',
      ],
      [
        'a last turn that is not the user’s',
        { messages: [{ role: 'assistant', content: 'x' }] },
        OpenAI.BadRequestError,
        400,
        'messages.0.role',
      ],
      ['an empty conversation', { messages: [] }, OpenAI.BadRequestError, 400, 'messages'],
      ['temperature 5', { temperature: 5 }, OpenAI.BadRequestError, 400, 'temperature'],
      ['an unknown model', { model: 'nope/nothing' }, OpenAI.NotFoundError, 404, 'model'],
      ['an unknown pattern', { model: 'chorus/nothing' }, OpenAI.NotFoundError, 404, 'model'],
    ];
    it.each(cases)('%s', async (_name, extra, type, status, param) => {
      const error = await client.chat.completions
        .create({ model: 'chorus/direct', messages: [{ role: 'user', content: 'x' }], ...extra } as never)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(type);
      const apiError = error as InstanceType<typeof OpenAI.APIError>;
      expect(apiError.status).toBe(status);
      expect(apiError.param).toBe(param);
      expect(apiError.type).toBe('invalid_request_error');
      if (status === 404) expect(apiError.code).toBe('model_not_found');
    });

    it('an unknown path under /openai/v1 is a 404 in OpenAI’s shape', async () => {
      const response = await fetch(`${app.url}/openai/v1/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(response.status).toBe(404);
      expect(await json(response)).toMatchObject({
        error: { type: 'invalid_request_error', code: 'not_found' },
      });
    });

    it('a wrong key is a 401 authentication_error', async () => {
      const wrong = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: 'nope', maxRetries: 0 });
      const error = await wrong.models.list().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_api_key');
    });

    it('an analysis that fails is a 502 whose code is its error code, with the analysis id', async () => {
      const failing = await client.chat.completions
        .create({
          model: 'chorus/standard',
          messages: [{ role: 'user', content: 'x' }],
          chorus: { models: ['sim/alpha'], options: { minResponses: 2 } },
        } as never)
        .catch((caught: unknown) => caught);
      expect(failing).toBeInstanceOf(OpenAI.APIError);
      const error = failing as InstanceType<typeof OpenAI.APIError>;
      expect(error.status).toBe(502);
      expect(error.code).toBe('quorum_not_met');
      expect(error.headers?.get('chorus-analysis-id')).toMatch(/^an_/);
    });
  });
});
