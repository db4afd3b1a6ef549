/**
 * A key's budget holds on the OpenAI-compatible surface too: once what is
 * left cannot cover an analysis's worst case, the official client gets
 * OpenAI's `429 insufficient_quota` (with Retry-After), and a model the key
 * may not use is a 403 in OpenAI's shape.
 */
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { simModel, simProvider, startApp } from '../support/app.js';
import { keyHash, keysDir } from '../support/keys-file.js';

const files = keysDir();
afterAll(() => files.remove());

// $10 in and out per million tokens; at most 100 tokens written: about $0.001 a call at worst.
const PRICED = simProvider([
  simModel('gpt-4.1', { inputCostPerMTok: 10, outputCostPerMTok: 10, latencyMs: 1 }),
  simModel('other', { latencyMs: 1 }),
]);

describe('budgets on /openai/v1', () => {
  it('a spent budget is 429 insufficient_quota; a model the key may not use is 403', async () => {
    const keys = files.write(
      [
        'keys:',
        '  - name: capped',
        `    keyHash: ${keyHash('capped-key')}`,
        '    budget: { usd: 0.0012, period: month }',
        '    models: ["sim/gpt-4.1"]',
      ].join('\n'),
    );
    const app = await startApp({ env: { STORE: 'memory', KEYS_FILE: keys }, providers: [PRICED] });
    try {
      const client = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: 'capped-key', maxRetries: 0 });
      const ask = () =>
        client.chat.completions.create({
          model: 'sim/gpt-4.1',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'What is the capital of France?' }],
        });
      const first = await ask();
      expect(first.choices[0]?.message.content?.length).toBeGreaterThan(0);
      const refused = await ask().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
      const error = refused as InstanceType<typeof OpenAI.RateLimitError>;
      expect(error.status).toBe(429);
      expect(error.code).toBe('insufficient_quota');
      expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);

      const forbidden = await client.chat.completions
        .create({ model: 'sim/other', messages: [{ role: 'user', content: 'hi' }] })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(forbidden).toBeInstanceOf(OpenAI.PermissionDeniedError);
    } finally {
      await app.close();
    }
  });
});
