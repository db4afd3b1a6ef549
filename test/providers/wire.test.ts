import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatCompletionChunkSchema, readChunk } from '../../src/providers/openai/wire.js';

/** Values shaped like stream chunks, with every field sometimes of the wrong kind. */
const loose = fc.oneof(fc.constant(null), fc.constant(undefined), fc.string(), fc.integer(), fc.boolean());
const usage = fc.oneof(
  loose,
  fc.record(
    {
      prompt_tokens: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 }), fc.double(), fc.string()),
      completion_tokens: fc.oneof(fc.nat(), fc.double(), fc.constant(null)),
      total_tokens: fc.nat(),
    },
    { requiredKeys: [] },
  ),
);
const choice = fc.oneof(
  loose,
  fc.record(
    {
      index: fc.nat(),
      delta: fc.oneof(
        loose,
        fc.record({ content: fc.oneof(fc.string(), loose), role: fc.string() }, { requiredKeys: [] }),
      ),
      finish_reason: fc.oneof(fc.string(), loose),
    },
    { requiredKeys: [] },
  ),
);
const chunk = fc.oneof(
  loose,
  fc.array(fc.nat()),
  fc.record(
    { id: fc.string(), choices: fc.oneof(loose, fc.array(choice, { maxLength: 3 })), usage },
    { requiredKeys: [] },
  ),
);

describe('readChunk', () => {
  it('accepts exactly the chunks the wire schema accepts, with the same choices and usage', () => {
    fc.assert(
      fc.property(chunk, (value) => {
        const parsed = chatCompletionChunkSchema.safeParse(value);
        const quick = readChunk(value);
        expect(quick !== undefined).toBe(parsed.success);
        if (!parsed.success || !quick) return;
        expect(quick.usage ?? undefined).toEqual(parsed.data.usage ?? undefined);
        expect((quick.choices ?? []).map((c) => [c.delta?.content ?? null, c.finish_reason ?? null])).toEqual(
          (parsed.data.choices ?? []).map((c) => [c.delta?.content ?? null, c.finish_reason ?? null]),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
