/**
 * The three-model provider the pattern tests run on a fake OpenAI-compatible
 * upstream (`up/m1`, weighing most, is the synthesis model), and helpers to
 * read what each call was shown.
 */
import type { ProviderConfig } from '../../src/config/types.js';
import type { FakeUpstream, RecordedRequest } from './fake-openai.js';

interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
}

export const MODELS = ['m1', 'm2', 'm3'] as const;

export function upstreamProvider(fake: FakeUpstream): ProviderConfig {
  return {
    name: 'up',
    kind: 'openai-compatible',
    baseURL: fake.url,
    timeoutMs: 10_000,
    source: 'test',
    models: [
      { id: 'm1', weight: 3, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] },
      { id: 'm2', weight: 2, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] },
      { id: 'm3', weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] },
    ],
  };
}

/** The distinctive answer a scripted fake gives to a model's n-th call. */
export const A = (model: string, n: number) => `ANSWER[${model}#${n}]`;

/** The model a recorded request asked for. */
export const requestedModel = (request: RecordedRequest) => (request.body as ChatBody).model;

/** The last user message of a recorded request. */
export const lastUser = (request: RecordedRequest) =>
  (request.body as ChatBody).messages.filter((message) => message.role === 'user').at(-1)!.content;

export const occurrences = (text: string, part: string) => text.split(part).length - 1;
