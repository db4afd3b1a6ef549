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

/** Provider `up` on the fake, its models weighing most to least in the order given (the first synthesizes). */
export function upstreamProvider(fake: FakeUpstream, models: readonly string[] = MODELS): ProviderConfig {
  return {
    name: 'up',
    kind: 'openai-compatible',
    baseURL: fake.url,
    timeoutMs: 10_000,
    source: 'test',
    models: models.map((id, index) => ({
      id,
      weight: models.length - index,
      inputCostPerMTok: 0,
      outputCostPerMTok: 0,
      tags: [],
    })),
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
