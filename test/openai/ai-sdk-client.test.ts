/**
 * A third-party client nobody here wrote — the Vercel AI SDK with
 * `@ai-sdk/openai-compatible` — against `/openai/v1`: generateText and
 * streamText see the answer as the record's result, the deliberation as
 * reasoning, and the usage of the whole analysis.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { FAST_SIM, json, startApp, type TestApp } from '../support/app.js';

describe('the Vercel AI SDK against /openai/v1', () => {
  let app: TestApp;
  let chorus: ReturnType<typeof createOpenAICompatible>;
  const record = async (id: string) => json<AnalysisRecord>(await fetch(`${app.url}/v1/analyses/${id}`));

  beforeAll(async () => {
    app = await startApp({ providers: [FAST_SIM] });
    chorus = createOpenAICompatible({ name: 'chorus', baseURL: `${app.url}/openai/v1`, includeUsage: true });
  });
  afterAll(() => app.close());

  it('generateText answers the result of the analysis', async () => {
    const result = await generateText({
      model: chorus('chorus/standard'),
      prompt: 'Why is the sky blue?',
      maxRetries: 0,
    });
    const id = result.response.headers?.['chorus-analysis-id'] as string;
    const analysis = await record(id);
    expect(result.text).toBe(analysis.result!.text);
    expect(result.usage.inputTokens).toBe(analysis.usage.inputTokens);
    expect(result.usage.outputTokens).toBe(analysis.usage.outputTokens);
  });

  it('streamText streams the synthesis as text and the earlier stages as reasoning', async () => {
    const result = streamText({
      model: chorus('chorus/standard'),
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi' },
        { role: 'user', content: 'Name three rivers.' },
      ],
      maxRetries: 0,
    });
    let text = '';
    for await (const part of result.textStream) text += part;
    const response = await result.response;
    const analysis = await record(response.id);
    expect(text).toBe(analysis.result!.text);
    expect(analysis.messages).toHaveLength(3);
    expect(await result.reasoningText).toContain('**initial · sim/');
    expect((await result.usage).outputTokens).toBe(analysis.usage.outputTokens);
  });
});
