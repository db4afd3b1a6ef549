/**
 * The service's limits through the chat surfaces, with the official SDKs: a
 * rate limit is a 429 with Retry-After, a full queue a 503, each in the
 * surface's own error shape; and an Anthropic stream the client abandons
 * cancels its analysis.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { json, simModel, simProvider, startApp, type TestApp } from '../support/app.js';

const SLOW = simProvider([simModel('slow', { latencyMs: 60_000 }), simModel('fast', { latencyMs: 1 })]);
const ask = { messages: [{ role: 'user' as const, content: 'x' }] };

describe('limits through the chat surfaces', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const clients = (url: string) => ({
    openai: new OpenAI({ baseURL: `${url}/openai/v1`, apiKey: 'k', maxRetries: 0 }),
    anthropic: new Anthropic({ baseURL: `${url}/anthropic`, apiKey: 'k', maxRetries: 0 }),
  });

  it('a rate limit is a 429 with Retry-After: rate_limit_exceeded, rate_limit_error', async () => {
    app = await startApp({ env: { RATE_LIMIT_PER_MINUTE: '1' }, providers: [SLOW] });
    const { openai, anthropic } = clients(app.url);
    await openai.models.list();
    const first = (await openai.models.list().catch((caught: unknown) => caught)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(first).toBeInstanceOf(OpenAI.RateLimitError);
    expect(first.code).toBe('rate_limit_exceeded');
    expect(Number(first.headers?.get('retry-after'))).toBeGreaterThan(0);
    await anthropic.messages.create({ model: 'sim/fast', max_tokens: 5, ...ask });
    const second = (await anthropic.messages
      .create({ model: 'sim/fast', max_tokens: 5, ...ask })
      .catch((caught: unknown) => caught)) as InstanceType<typeof Anthropic.APIError>;
    expect(second).toBeInstanceOf(Anthropic.RateLimitError);
    expect(second.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('a full queue is a 503: service_unavailable, overloaded_error', async () => {
    app = await startApp({ env: { QUEUE_MAX: '0', JOB_CONCURRENCY: '1' }, providers: [SLOW] });
    const { openai, anthropic } = clients(app.url);
    // One slow analysis takes the only worker slot; nothing may wait.
    const busy = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'busy', pattern: 'direct', models: ['sim/slow'] }),
    });
    expect(busy.status).toBe(202);
    const refused = (await openai.chat.completions
      .create({ model: 'sim/fast', ...ask })
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(refused.status).toBe(503);
    expect(refused.code).toBe('service_unavailable');
    expect(refused.headers?.get('retry-after')).toBeTruthy();
    const overloaded = (await anthropic.messages
      .create({ model: 'sim/fast', max_tokens: 5, ...ask })
      .catch((caught: unknown) => caught)) as InstanceType<typeof Anthropic.APIError>;
    expect(overloaded.status).toBe(503);
    expect(overloaded.error).toMatchObject({ error: { type: 'overloaded_error' } });
  });

  it('an Anthropic stream the client aborts cancels the analysis', async () => {
    app = await startApp({ providers: [SLOW] });
    const { anthropic } = clients(app.url);
    const stream = anthropic.messages.stream({
      model: 'chorus/standard',
      max_tokens: 50,
      ...ask,
      chorus: { models: ['sim/fast', 'sim/slow'], options: { minResponses: 2 } },
    } as Anthropic.MessageStreamParams);
    let id = '';
    const ended = await (async () => {
      for await (const event of stream) {
        if (event.type === 'message_start') {
          id = event.message.id;
          stream.abort();
        }
      }
    })().catch((caught: unknown) => caught);
    expect(ended).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(id).toMatch(/^an_/);
    await vi.waitFor(
      async () =>
        expect((await json<AnalysisRecord>(await fetch(`${app!.url}/v1/analyses/${id}`))).status).toBe(
          'cancelled',
        ),
      { timeout: 10_000 },
    );
  });
});
