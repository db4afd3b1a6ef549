/**
 * A test app on a fake OpenAI-compatible upstream (provider `up`, models
 * m1…m3) that numbers each model's calls and records what each was shown:
 * the pattern tests check the prompts a model's n-th call (its n-th stage)
 * received, and script answers per model and call.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startApp, type TestApp } from './app.js';
import { type FakeReply, type FakeUpstream, startFakeOpenAI } from './fake-openai.js';
import { A, lastUser, requestedModel, upstreamProvider } from './upstream-models.js';

export interface CountedCall {
  model: string;
  /** 1 for the model's first call, 2 for its second, … */
  n: number;
  /** The last user message it was sent. */
  prompt: string;
}

/** How a model's n-th call is answered; undefined: `ANSWER[<model>#<n>]` at once. */
export type CountedReply = (model: string, n: number) => FakeReply | undefined;

export interface CountedUpstream {
  readonly app: TestApp;
  readonly fake: FakeUpstream;
  /** The chat calls of the current test, in arrival order. */
  readonly seen: readonly CountedCall[];
  /** The prompt of a model's n-th call (throws if it made none). */
  prompt(model: string, n: number): string;
  callsOf(model: string): number;
  /** This test's answers: reset to the default before each test. */
  reply: CountedReply;
}

/** Starts the fake and the app for the enclosing `describe`, and resets calls and answers before each test. */
export function useCountedUpstream(): CountedUpstream {
  let app: TestApp | undefined;
  let fake: FakeUpstream | undefined;
  let seen: CountedCall[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the counted upstream is used before it started');
    return value;
  };
  const upstream: CountedUpstream = {
    get app() {
      return started(app);
    },
    get fake() {
      return started(fake);
    },
    get seen() {
      return seen;
    },
    prompt: (model, n) => {
      const found = seen.find((entry) => entry.model === model && entry.n === n);
      if (!found) throw new Error(`${model} received no call #${n}`);
      return found.prompt;
    },
    callsOf: (model) => seen.filter((entry) => entry.model === model).length,
    reply: () => undefined,
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startApp({ providers: [upstreamProvider(fake)] });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });
  beforeEach(() => {
    const current = started(fake);
    current.reset();
    seen = [];
    upstream.reply = () => undefined;
    const counters = new Map<string, number>();
    current.setHandler((request) => {
      if (request.path !== '/v1/chat/completions') return undefined;
      const model = requestedModel(request);
      const n = (counters.get(model) ?? 0) + 1;
      counters.set(model, n);
      seen.push({ model, n, prompt: lastUser(request) });
      return upstream.reply(model, n) ?? { type: 'answer', text: A(model, n) };
    });
  });
  return upstream;
}
