/**
 * `/anthropic/v1/messages` through the official `@anthropic-ai/sdk` against
 * the running service: messages.create, messages.stream (with and without a
 * thinking block), usage, the analysis behind each answer, and errors in
 * Anthropic's shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { FAST_SIM, json, STORES, startApp, type TestApp } from '../support/app.js';

const KEY = 'sk-chorus-test';

describe.each(STORES)('Anthropic-compatible messages ($name store)', ({ env }) => {
  let app: TestApp;
  let client: Anthropic;
  const record = async (id: string) =>
    json<AnalysisRecord>(
      await fetch(`${app.url}/v1/analyses/${id}`, { headers: { authorization: `Bearer ${KEY}` } }),
    );

  beforeAll(async () => {
    app = await startApp({ env: { ...env, API_KEYS: KEY }, providers: [FAST_SIM] });
    client = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: KEY, maxRetries: 0 });
  });
  afterAll(() => app.close());

  it('messages.create answers the result with usage summed over every call (key as x-api-key)', async () => {
    const { data, response } = await client.messages
      .create({
        model: 'chorus/standard',
        max_tokens: 500,
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: [
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Hi!' },
          { role: 'user', content: [{ type: 'text', text: 'Why is the sky blue?' }] },
        ],
        chorus: { models: ['sim/alpha', 'sim/beta'] },
      } as Anthropic.MessageCreateParamsNonStreaming)
      .withResponse();
    const id = response.headers.get('chorus-analysis-id')!;
    expect(data.id).toBe(id);
    const analysis = await record(id);
    expect(analysis.messages).toEqual([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'Why is the sky blue?' },
    ]);
    expect(data.content).toEqual([{ type: 'text', text: analysis.result!.text }]);
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage).toMatchObject({
      input_tokens: analysis.usage.inputTokens,
      output_tokens: analysis.usage.outputTokens,
    });
  });

  it('with thinking enabled, answers the earlier stages as a thinking block first', async () => {
    const data = await client.messages.create({
      model: 'chorus/standard',
      max_tokens: 500,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Think first.' }],
      chorus: { models: ['sim/alpha'] },
    } as Anthropic.MessageCreateParamsNonStreaming);
    expect(data.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect((data.content[0] as Anthropic.ThinkingBlock).thinking).toMatch(/^\*\*initial · sim\/alpha\*\*/);
  });

  it('messages.stream: its event sequence, thinking then text, text adding up to result.text', async () => {
    const stream = client.messages.stream({
      model: 'chorus/standard',
      max_tokens: 500,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Name three rivers.' }],
      chorus: { models: ['sim/alpha', 'sim/beta'] },
    } as Anthropic.MessageStreamParams);
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    const final = await stream.finalMessage();
    const analysis = await record(final.id);
    expect(text).toBe(analysis.result!.text);
    expect(final.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect((final.content[1] as Anthropic.TextBlock).text).toBe(analysis.result!.text);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(types.filter((type) => type === 'content_block_start')).toHaveLength(2);
    expect(final.usage.output_tokens).toBe(analysis.usage.outputTokens);
    expect(final.stop_reason).toBe('end_turn');
  });

  it('messages.stream without thinking has one text block', async () => {
    const stream = client.messages.stream({
      model: 'sim/beta',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Direct, please.' }],
    });
    const final = await stream.finalMessage();
    const analysis = await record(final.id);
    expect(analysis.pattern).toBe('direct');
    expect(final.content.map((block) => block.type)).toEqual(['text']);
    expect((final.content[0] as Anthropic.TextBlock).text).toBe(analysis.result!.text);
  });

  describe('errors in Anthropic’s shape', () => {
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ['tools', { tools: [{ name: 'f', input_schema: { type: 'object' } }] }, 400, 'invalid_request_error'],
      [
        'an image block',
        { messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] },
        400,
        'invalid_request_error',
      ],
      [
        'a last turn that is not the user’s',
        { messages: [{ role: 'assistant', content: 'x' }] },
        400,
        'invalid_request_error',
      ],
      ['no max_tokens', { max_tokens: undefined }, 400, 'invalid_request_error'],
      ['an unknown model', { model: 'nope/nothing' }, 404, 'not_found_error'],
    ];
    it.each(cases)('%s', async (_name, extra, status, type) => {
      const error = await client.messages
        .create({
          model: 'chorus/direct',
          max_tokens: 50,
          messages: [{ role: 'user', content: 'x' }],
          ...extra,
        } as never)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      const apiError = error as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(status);
      expect(apiError.error).toMatchObject({ type: 'error', error: { type } });
    });

    it('a wrong key is a 401 authentication_error', async () => {
      const wrong = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: 'nope', maxRetries: 0 });
      const error = await wrong.messages
        .create({ model: 'chorus/direct', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
        error: { type: 'authentication_error' },
      });
    });
  });
});
