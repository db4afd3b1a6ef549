/**
 * fast-check properties over the bodies of the chat-compatible surfaces:
 * whatever arrives, the answer is never a 5xx, and every refusal is in that
 * surface's own error shape (never problem+json).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_SIM, startApp, type TestApp } from '../support/app.js';

const role = fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function', '', 'USER');
const content = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(
    fc.oneof(
      fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 20 }) }),
      fc.record({ type: fc.constantFrom('image_url', 'input_audio', 'text'), text: fc.anything() }),
    ),
    { maxLength: 3 },
  ),
  fc.constant(null),
  fc.anything(),
);
const message = fc.oneof(fc.record({ role, content }, { requiredKeys: [] }), fc.anything());
const model = fc.constantFrom(
  'chorus/direct',
  'chorus/standard',
  'sim/alpha',
  'chorus/nope',
  'x',
  '',
  'sim/',
);
const body = fc.oneof(
  fc.record(
    {
      model: fc.oneof(model, fc.anything()),
      messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.anything()),
      n: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.anything()),
      tools: fc.anything(),
      response_format: fc.oneof(fc.record({ type: fc.constantFrom('text', 'json_object') }), fc.anything()),
      temperature: fc.oneof(fc.double({ min: -1, max: 4, noNaN: true }), fc.anything()),
      max_tokens: fc.oneof(fc.integer({ min: -5, max: 40_000 }), fc.anything()),
      metadata: fc.anything(),
      user: fc.anything(),
      system: fc.anything(),
      max_tokens_alt: fc.anything(),
      chorus: fc.oneof(
        fc.record({ models: fc.array(fc.constantFrom('sim/alpha', 'sim/zzz', 'bad'), { maxLength: 3 }) }),
        fc.anything(),
      ),
      stream: fc.constant(false),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);

function expectOpenAIShape(status: number, contentType: string, text: string) {
  expect(status, text).toBeLessThan(500);
  if (status < 400) return;
  expect(contentType, text).toMatch(/^application\/json/);
  const parsed = JSON.parse(text) as { error: Record<string, unknown> };
  expect(typeof parsed.error.message, text).toBe('string');
  expect(typeof parsed.error.type, text).toBe('string');
  expect(parsed.error.param === null || typeof parsed.error.param === 'string', text).toBe(true);
  expect(parsed.error.code === null || typeof parsed.error.code === 'string', text).toBe(true);
}

function expectAnthropicShape(status: number, contentType: string, text: string) {
  expect(status, text).toBeLessThan(500);
  if (status < 400) return;
  expect(contentType, text).toMatch(/^application\/json/);
  const parsed = JSON.parse(text) as { type: string; error: Record<string, unknown> };
  expect(parsed.type, text).toBe('error');
  expect(typeof parsed.error.type, text).toBe('string');
  expect(typeof parsed.error.message, text).toBe('string');
}

describe('chat surfaces never answer a 5xx, and always in their own error shape', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ providers: [FAST_SIM] });
  });
  afterAll(() => app.close());

  const surfaces = [
    { path: '/openai/v1/chat/completions', expectShape: expectOpenAIShape },
    { path: '/anthropic/v1/messages', expectShape: expectAnthropicShape },
  ];

  for (const surface of surfaces) {
    it(`${surface.path}: generated bodies`, async () => {
      await fc.assert(
        fc.asyncProperty(body, async (sent) => {
          const json = JSON.stringify(sent) ?? 'null';
          const response = await fetch(`${app.url}${surface.path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: json,
          });
          surface.expectShape(
            response.status,
            response.headers.get('content-type') ?? '',
            await response.text(),
          );
        }),
        { numRuns: 60 },
      );
    });

    it(`${surface.path}: bodies that are not JSON`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 30 }),
          fc.constantFrom('application/json', 'text/plain'),
          async (raw, type) => {
            const response = await fetch(`${app.url}${surface.path}`, {
              method: 'POST',
              headers: { 'content-type': type },
              body: raw,
            });
            surface.expectShape(
              response.status,
              response.headers.get('content-type') ?? '',
              await response.text(),
            );
          },
        ),
        { numRuns: 30 },
      );
    });
  }
});
