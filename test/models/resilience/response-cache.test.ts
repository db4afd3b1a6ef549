import { describe, expect, it } from 'vitest';
import {
  type CacheableRequest,
  canonicalJson,
  keyFor,
  ResponseCache,
} from '../../../src/models/resilience/response-cache.js';
import type { GenerateResult } from '../../../src/providers/spec.js';

const request: CacheableRequest = {
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'What is 2 + 2?' }],
  temperature: 0.2,
  maxTokens: 100,
};

const result: GenerateResult = {
  text: '4',
  usage: { inputTokens: 12, outputTokens: 1 },
  finishReason: 'stop',
  upstreamRequestId: 'req_1',
};

function clock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('keyFor', () => {
  it('is a sha256 hex digest, stable across property order and undefined members', () => {
    const key = keyFor('key_1', 'openai/gpt', request);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const reordered: CacheableRequest = {
      maxTokens: 100,
      temperature: 0.2,
      messages: [{ content: 'What is 2 + 2?', role: 'user' }],
      system: 'Be brief.',
    };
    expect(keyFor('key_1', 'openai/gpt', reordered)).toBe(key);
    const withoutSystem = { messages: request.messages };
    expect(keyFor('key_1', 'openai/gpt', { ...withoutSystem, system: undefined })).toBe(
      keyFor('key_1', 'openai/gpt', withoutSystem),
    );
  });

  it('changes with the owner, the model and every part of the request', () => {
    const key = keyFor('key_1', 'openai/gpt', request);
    expect(keyFor('key_2', 'openai/gpt', request)).not.toBe(key);
    expect(keyFor('key_1', 'anthropic/claude', request)).not.toBe(key);
    expect(keyFor('key_1', 'openai/gpt', { ...request, system: 'Be long.' })).not.toBe(key);
    expect(keyFor('key_1', 'openai/gpt', { ...request, temperature: 0.3 })).not.toBe(key);
    expect(keyFor('key_1', 'openai/gpt', { ...request, maxTokens: 101 })).not.toBe(key);
    expect(
      keyFor('key_1', 'openai/gpt', { ...request, messages: [{ role: 'user', content: 'What is 2 + 3?' }] }),
    ).not.toBe(key);
    expect(
      keyFor('key_1', 'openai/gpt', {
        ...request,
        messages: [{ role: 'assistant', content: 'What is 2 + 2?' }],
      }),
    ).not.toBe(key);
  });

  it('ignores fields outside the request that decides the answer (such as the signal)', () => {
    const withSignal = { ...request, signal: new AbortController().signal, model: 'gpt' };
    expect(keyFor('key_1', 'openai/gpt', withSignal)).toBe(keyFor('key_1', 'openai/gpt', request));
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"e":3,"f":2}]},"b":1}',
    );
  });
});

describe('ResponseCache', () => {
  it('misses, then hits after a set, counting both', () => {
    const cache = new ResponseCache({ maxEntries: 10, ttlMs: 60_000 });
    const key = keyFor('key_1', 'openai/gpt', request);
    expect(cache.get(key)).toBeUndefined();
    expect(cache.set(key, result)).toBe(true);
    expect(cache.get(key)).toEqual({
      text: '4',
      usage: { inputTokens: 12, outputTokens: 1 },
      finishReason: 'stop',
    });
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('keeps only text, usage and finish reason (not the first call’s request id)', () => {
    const cache = new ResponseCache({ maxEntries: 10, ttlMs: 60_000 });
    cache.set('k', result);
    expect(cache.get('k')).not.toHaveProperty('upstreamRequestId');
  });

  it('is not changed by mutating the stored or the returned result', () => {
    const cache = new ResponseCache({ maxEntries: 10, ttlMs: 60_000 });
    const mutable: GenerateResult = { text: 'a', usage: { inputTokens: 1, outputTokens: 1 } };
    cache.set('k', mutable);
    mutable.text = 'changed';
    mutable.usage.inputTokens = 99;
    expect(cache.get('k')).toMatchObject({ text: 'a', usage: { inputTokens: 1 } });
    expect(Object.isFrozen(cache.get('k'))).toBe(true);
  });

  it('expires entries after the TTL', () => {
    const time = clock();
    const cache = new ResponseCache({ maxEntries: 10, ttlMs: 5_000, now: time.now });
    cache.set('k', result);
    time.advance(4_999);
    expect(cache.get('k')).toBeDefined();
    time.advance(2);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('drops the least recently used entry beyond maxEntries', () => {
    const cache = new ResponseCache({ maxEntries: 2, ttlMs: 60_000 });
    cache.set('a', result);
    cache.set('b', result);
    cache.get('a');
    cache.set('c', result);
    expect(cache.has('a')).toBe(true);
    expect(cache.has('b')).toBe(false);
    expect(cache.has('c')).toBe(true);
  });

  it('never lets one owner see another owner’s answer', () => {
    const cache = new ResponseCache({ maxEntries: 10, ttlMs: 60_000 });
    cache.set(keyFor('key_1', 'openai/gpt', request), result);
    expect(cache.get(keyFor('key_2', 'openai/gpt', request))).toBeUndefined();
    expect(cache.get(keyFor('key_1', 'openai/gpt', request))).toBeDefined();
  });

  it('stores only complete results', () => {
    const cache = new ResponseCache({ maxEntries: 10, ttlMs: 60_000 });
    for (const finishReason of ['error', 'cancelled', 'aborted', 'incomplete']) {
      expect(cache.set(finishReason, { ...result, finishReason })).toBe(false);
      expect(cache.has(finishReason)).toBe(false);
    }
    expect(cache.set('nan', { text: 'x', usage: { inputTokens: Number.NaN, outputTokens: 1 } })).toBe(false);
    expect(cache.set('length', { ...result, finishReason: 'length' })).toBe(true);
    expect(cache.set('none', { text: 'x', usage: { inputTokens: 1, outputTokens: 1 } })).toBe(true);
    expect(cache.stats().size).toBe(2);
  });

  it('refuses nonsensical bounds', () => {
    expect(() => new ResponseCache({ maxEntries: 0, ttlMs: 1 })).toThrow(RangeError);
    expect(() => new ResponseCache({ maxEntries: 1, ttlMs: 0 })).toThrow(RangeError);
  });
});
