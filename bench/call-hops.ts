/**
 * The hops of one model call: `npx tsx bench/call-hops.ts` makes one call
 * through the real ResilientModelCaller to an in-process model, captures the
 * stack where the adapter starts streaming, and prints the frames and the
 * files in src/ between the caller's entry and the adapter.
 */
import { pino } from 'pino';
import { ModelRegistry } from '../src/models/registry.js';
import { ResilientModelCaller } from '../src/models/resilient-caller.js';
import { modelIdentity } from '../src/providers/shared/model-identity.js';
import type { LanguageModel, StreamPart } from '../src/providers/spec.js';

Error.stackTraceLimit = 200;
let stack = '';

const model: LanguageModel = {
  ...modelIdentity(
    'fake',
    { id: 'echo' },
    { temperature: true, maxTemperature: 2, requiresMaxTokens: false },
  ),
  generate: () => Promise.reject(new Error('not used')),
  async *stream(): AsyncGenerator<StreamPart> {
    stack = new Error('adapter').stack ?? '';
    yield { type: 'text-delta', text: 'hi' };
    yield { type: 'finish', usage: { inputTokens: 1, outputTokens: 1 }, finishReason: 'stop' };
  },
};

const registry = new ModelRegistry(
  [
    {
      adapter: { kind: 'sim', name: 'fake', models: [{ id: 'echo' }] },
      limits: {},
      timeoutMs: 5_000,
      models: [{ id: 'echo', weight: 1, tags: [], inputCostPerMTok: 0, outputCostPerMTok: 0 }],
      source: 'bench',
    },
  ],
  {
    sim: () => ({
      name: 'fake',
      kind: 'sim',
      models: [model],
      checkAvailability: async () => ({ available: true, checkedAt: new Date(0).toISOString() }),
    }),
  },
);
const caller = new ResilientModelCaller({ registry, logger: pino({ level: 'silent' }) });
const outcome = await caller.call({
  owner: 'key',
  analysisId: 'an',
  modelId: 'fake/echo',
  system: undefined,
  prompt: 'hello',
  settings: { temperature: undefined, maxTokens: undefined },
  timeoutMs: undefined,
  cache: false,
  signal: new AbortController().signal,
  hooks: { onAttempt() {}, onDelta() {}, onRetry() {} },
});
await caller.close();
if (!outcome.ok) throw new Error(`the call failed: ${outcome.error.code}`);

const frames = stack
  .split('\n')
  .slice(1)
  .map((line) => line.trim())
  .filter((line) => line.includes('/src/'));
const files = new Set(frames.map((line) => /\/(src\/[^:)]+)/.exec(line)?.[1]));
console.log(frames.join('\n'));
console.log(`\n${frames.length} frames in src/, ${files.size} files: ${[...files].join(', ')}`);
