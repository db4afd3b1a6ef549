/**
 * The model call chain without a socket: the real ResilientModelCaller over
 * a real registry whose one model is a scripted LanguageModel.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelCall, ModelCallHooks } from '../../src/models/call-model.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { keyFor } from '../../src/models/resilience/response-cache.js';
import { ResilientModelCaller } from '../../src/models/resilient-caller.js';
import { ProviderError } from '../../src/providers/errors.js';
import type { ProviderSettings } from '../../src/providers/index.js';
import { modelIdentity } from '../../src/providers/shared/model-identity.js';
import type { CallOptions, GenerateRequest, LanguageModel, StreamPart } from '../../src/providers/spec.js';
import { deferred } from './resilience/deferred.js';

type Script = (request: GenerateRequest, signal: AbortSignal | undefined) => AsyncIterable<StreamPart>;

interface Scripted {
  caller: ResilientModelCaller;
  /** Every request the adapter received, one per attempt. */
  requests: GenerateRequest[];
}

const finish: StreamPart = {
  type: 'finish',
  usage: { inputTokens: 3, outputTokens: 2 },
  finishReason: 'stop',
};

async function* answer(...texts: string[]): AsyncGenerator<StreamPart> {
  for (const text of texts) yield { type: 'text-delta', text };
  yield finish;
}

/** A caller whose model `fake/echo` runs `scripts[n]` for its n-th attempt. */
function scripted(scripts: Script[]): Scripted {
  const requests: GenerateRequest[] = [];
  const model: LanguageModel = {
    ...modelIdentity(
      'fake',
      { id: 'echo' },
      { temperature: true, maxTemperature: 2, requiresMaxTokens: false },
    ),
    generate: () => Promise.reject(new Error('not used')),
    stream: (request: GenerateRequest, options: CallOptions = {}) => {
      requests.push(request);
      const script = scripts[requests.length - 1] ?? scripts.at(-1)!;
      return script(request, options.signal);
    },
  };
  const adapter: ProviderSettings = { kind: 'sim', name: 'fake', models: [{ id: 'echo' }] };
  const registry = new ModelRegistry(
    [
      {
        adapter,
        limits: {},
        timeoutMs: 5_000,
        models: [{ id: 'echo', weight: 1, tags: [], inputCostPerMTok: 0, outputCostPerMTok: 0 }],
        source: 'test',
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
  const caller = new ResilientModelCaller({
    registry,
    logger: pino({ level: 'silent' }),
    retry: { maxAttempts: 3, sleep: async () => undefined },
  });
  callers.push(caller);
  return { caller, requests };
}

const callers: ResilientModelCaller[] = [];
afterEach(async () => {
  for (const caller of callers.splice(0)) await caller.close();
});

interface Heard {
  hooks: ModelCallHooks;
  attempts: number[];
  text: () => string;
  retries: string[];
}

function listen(): Heard {
  const attempts: number[] = [];
  const retries: string[] = [];
  let text = '';
  return {
    attempts,
    retries,
    text: () => text,
    hooks: {
      onAttempt: (attempt) => attempts.push(attempt),
      onDelta: (delta) => {
        text += delta;
      },
      onRetry: (error) => {
        retries.push(error.code);
        text = '';
      },
    },
  };
}

function modelCall(hooks: ModelCallHooks, extra: Partial<ModelCall> = {}): ModelCall {
  return {
    owner: 'key_1',
    analysisId: 'an_1',
    modelId: 'fake/echo',
    system: 'Be brief.',
    prompt: 'Why is the sky blue?',
    settings: { temperature: 0.2, maxTokens: 100 },
    timeoutMs: undefined,
    cache: true,
    signal: new AbortController().signal,
    hooks,
    ...extra,
  };
}

const overloaded = () => new ProviderError({ code: 'overloaded', message: 'fake overloaded' });

describe('the call chain, without a socket', () => {
  it('builds the request once: every attempt gets the object the cache key was derived from', async () => {
    const { caller, requests } = scripted([
      async function* () {
        yield* [];
        throw overloaded();
      },
      () => answer('Rayleigh ', 'scattering.'),
    ]);
    const heard = listen();
    const outcome = await caller.call(modelCall(heard.hooks));
    expect(outcome).toMatchObject({ ok: true, text: 'Rayleigh scattering.', attempts: 2 });
    expect(requests).toHaveLength(2);
    expect(requests[1]).toBe(requests[0]);
    expect(Object.isFrozen(requests[0])).toBe(true);
    expect(requests[0]).toEqual({
      model: 'echo',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      temperature: 0.2,
      maxTokens: 100,
    });
    expect(caller.cache.has(keyFor('key_1', 'fake/echo', requests[0]!))).toBe(true);
    expect(heard.attempts).toEqual([1, 2]);
    expect(heard.retries).toEqual(['overloaded']);
  });

  it('one fan-out: two coalesced callers make one upstream call; the late one gets the text so far', async () => {
    const gate = deferred<void>();
    const { caller, requests } = scripted([
      async function* () {
        yield { type: 'text-delta', text: 'Hello' };
        await gate.promise;
        yield { type: 'text-delta', text: ' world' };
        yield finish;
      },
    ]);
    const first = listen();
    const second = listen();
    const one = caller.call(modelCall(first.hooks));
    await expect.poll(() => first.text()).toBe('Hello');
    const two = caller.call(modelCall(second.hooks));
    expect(second.text()).toBe('Hello');
    expect(second.attempts).toEqual([1]);
    gate.resolve();
    const [a, b] = await Promise.all([one, two]);
    expect(requests).toHaveLength(1);
    expect(a).toMatchObject({ ok: true, text: 'Hello world', attempts: 1 });
    expect(b).toMatchObject({ ok: true, text: 'Hello world', attempts: 1 });
    expect(second.text()).toBe('Hello world');
    expect(caller.shared.stats()).toEqual({ executions: 1, joins: 1, inFlight: 0 });
  });

  it('the abort of one coalesced caller does not abort the other', async () => {
    const gate = deferred<void>();
    let upstreamSignal: AbortSignal | undefined;
    const { caller, requests } = scripted([
      async function* (_request, signal) {
        upstreamSignal = signal;
        yield { type: 'text-delta', text: 'Hel' };
        await gate.promise;
        yield { type: 'text-delta', text: 'lo' };
        yield finish;
      },
    ]);
    const leaving = new AbortController();
    const first = listen();
    const left = caller.call(modelCall(first.hooks, { signal: leaving.signal }));
    await expect.poll(() => first.text()).toBe('Hel');
    const stays = caller.call(modelCall(listen().hooks));
    leaving.abort();
    await expect(left).resolves.toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(upstreamSignal?.aborted).toBe(false);
    gate.resolve();
    await expect(stays).resolves.toMatchObject({ ok: true, text: 'Hello' });
    expect(requests).toHaveLength(1);
  });

  it('an error part after the first token fails the attempt: retried when the table says so', async () => {
    const { caller, requests } = scripted([
      async function* () {
        yield { type: 'text-delta', text: 'half an ans' };
        yield { type: 'error', error: overloaded() };
      },
      () => answer('A whole answer.'),
    ]);
    const heard = listen();
    const outcome = await caller.call(modelCall(heard.hooks));
    expect(outcome).toMatchObject({ ok: true, text: 'A whole answer.', attempts: 2 });
    expect(heard.retries).toEqual(['overloaded']);
    // The retry dropped the partial text; what the caller holds is the second attempt's.
    expect(heard.text()).toBe('A whole answer.');
    expect(requests).toHaveLength(2);
  });

  it('an error part the table does not retry ends the call with its code', async () => {
    const { caller, requests } = scripted([
      async function* () {
        yield { type: 'text-delta', text: 'Some' };
        yield { type: 'error', error: new ProviderError({ code: 'bad_request', message: 'fake refused' }) };
      },
    ]);
    const outcome = await caller.call(modelCall(listen().hooks));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'bad_request' }, attempts: 1 });
    expect(requests).toHaveLength(1);
  });

  it('a model that is not configured fails with bad_request and makes no attempt', async () => {
    const { caller, requests } = scripted([() => answer('x')]);
    const outcome = await caller.call(modelCall(listen().hooks, { modelId: 'fake/missing' }));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'bad_request' }, attempts: 0 });
    expect(requests).toHaveLength(0);
  });
});
