/**
 * selectModels and fallbackOrder over a real ModelRegistry whose providers
 * are stubs with scripted availability (no network).
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig, ProviderConfig } from '../../src/config/types.js';
import { ModelRegistry, type ProviderFactory } from '../../src/models/registry.js';
import {
  DEFAULT_MODEL_COUNT,
  fallbackOrder,
  SelectionError,
  selectModels,
} from '../../src/models/selector.js';
import { toProviderEntries } from '../../src/provider-entries.js';
import type { Availability, LanguageModel, Provider } from '../../src/providers/spec.js';

function model(id: string, weight: number): ModelConfig {
  return { id, weight, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] };
}

function provider(name: string, models: ModelConfig[]): ProviderConfig {
  return { name, kind: 'sim', timeoutMs: 1000, source: 'test', models };
}

/** A registry whose providers answer availability from `down` (provider names that are down). */
function registryOf(configs: ProviderConfig[], down: Set<string> = new Set()): ModelRegistry {
  const stub: ProviderFactory = (config): Provider => ({
    name: config.name,
    kind: config.kind,
    models: config.models.map(
      (entry): LanguageModel => ({
        id: `${config.name}/${entry.id}`,
        provider: config.name,
        model: entry.id,
        capabilities: {
          streaming: false,
          contextWindow: null,
          maxOutputTokens: null,
          temperature: true,
          maxTemperature: 2,
          requiresMaxTokens: false,
        },
        generate: () => Promise.reject(new Error('not called')),
        stream: () => {
          throw new Error('not called');
        },
      }),
    ),
    checkAvailability: async (): Promise<Availability> => ({
      available: !down.has(config.name),
      checkedAt: new Date(0).toISOString(),
      ...(down.has(config.name) ? { reason: 'connection refused' } : {}),
    }),
  });
  return new ModelRegistry(toProviderEntries(configs), {
    sim: stub,
    openai: stub,
    anthropic: stub,
    'openai-compatible': stub,
  });
}

async function refreshed(configs: ProviderConfig[], down: string[]): Promise<ModelRegistry> {
  const registry = registryOf(configs, new Set(down));
  await registry.refreshAvailability();
  return registry;
}

function selectionError(run: () => unknown): SelectionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SelectionError);
    return error as SelectionError;
  }
  throw new Error('expected a SelectionError');
}

const FIVE = [
  provider('a', [model('one', 1), model('five', 5)]),
  provider('b', [model('three', 3), model('four', 4)]),
  provider('c', [model('two', 2)]),
];

describe('selectModels: the default choice', () => {
  it('takes the top three by weight', () => {
    expect(DEFAULT_MODEL_COUNT).toBe(3);
    const selection = selectModels(registryOf(FIVE));
    expect(selection.models).toEqual(['a/five', 'b/four', 'b/three']);
    expect(selection.synthesisModel).toBe('a/five');
  });

  it('takes fewer when fewer exist', () => {
    const registry = registryOf([provider('p', [model('x', 1), model('y', 2)])]);
    expect(selectModels(registry).models).toEqual(['p/y', 'p/x']);
    expect(selectModels(registryOf([provider('p', [model('x', 1)])]))).toEqual({
      models: ['p/x'],
      synthesisModel: 'p/x',
    });
  });

  it('treats an empty list like no list', () => {
    expect(selectModels(registryOf(FIVE), []).models).toEqual(['a/five', 'b/four', 'b/three']);
  });

  it('breaks ties by id, whatever the configuration order', () => {
    const tied = [model('zeta', 1), model('alpha', 1), model('mu', 1), model('beta', 1)];
    const forward = selectModels(registryOf([provider('p', tied)]));
    const backward = selectModels(registryOf([provider('p', [...tied].reverse())]));
    expect(forward.models).toEqual(['p/alpha', 'p/beta', 'p/mu']);
    expect(backward).toEqual(forward);
    expect(forward.synthesisModel).toBe('p/alpha');
  });

  it('breaks ties across providers by the full id', () => {
    const registry = registryOf([
      provider('zz', [model('m', 2)]),
      provider('aa', [model('m', 2)]),
      provider('mm', [model('m', 2)]),
      provider('bb', [model('m', 1)]),
    ]);
    expect(selectModels(registry).models).toEqual(['aa/m', 'mm/m', 'zz/m']);
  });

  it('skips models whose provider is down', async () => {
    const registry = await refreshed(FIVE, ['b']);
    const selection = selectModels(registry);
    expect(selection.models).toEqual(['a/five', 'c/two', 'a/one']);
    expect(selection.synthesisModel).toBe('a/five');
  });

  it('falls back to every model when no provider is available (availability never refuses)', async () => {
    const registry = await refreshed(FIVE, ['a', 'b', 'c']);
    expect(selectModels(registry).models).toEqual(['a/five', 'b/four', 'b/three']);
  });

  it('treats a provider whose availability is unknown as available', () => {
    const registry = registryOf(FIVE, new Set(['b']));
    expect(registry.isAvailable('b/four')).toBe(true);
    expect(selectModels(registry).models).toEqual(['a/five', 'b/four', 'b/three']);
  });

  it('a probe that throws counts as unavailable', async () => {
    const registry = registryOf(FIVE);
    const b = registry.providers.get('b')!;
    b.checkAvailability = () => Promise.reject(new Error('boom'));
    await registry.refreshAvailability();
    expect(registry.isAvailable('b/four')).toBe(false);
    expect(registry.availabilityOf('b')?.available).toBe(false);
    expect(selectModels(registry).models).toEqual(['a/five', 'c/two', 'a/one']);
  });
});

describe('selectModels: models named in the request', () => {
  it('keeps them in the order given', () => {
    const selection = selectModels(registryOf(FIVE), ['c/two', 'a/one', 'b/four']);
    expect(selection.models).toEqual(['c/two', 'a/one', 'b/four']);
    // The synthesis default is the highest-weight among them.
    expect(selection.synthesisModel).toBe('b/four');
  });

  it('accepts a model whose provider is down (availability never refuses)', async () => {
    const registry = await refreshed(FIVE, ['a']);
    const selection = selectModels(registry, ['a/five', 'c/two']);
    expect(selection.models).toEqual(['a/five', 'c/two']);
    // ...but the synthesis default prefers an available one.
    expect(selection.synthesisModel).toBe('c/two');
  });

  it('uses the highest-weight model as synthesis when none of them is available', async () => {
    const registry = await refreshed(FIVE, ['a', 'c']);
    expect(selectModels(registry, ['c/two', 'a/five']).synthesisModel).toBe('a/five');
  });

  it('accepts more than the default count', () => {
    const all = ['a/one', 'a/five', 'b/three', 'b/four', 'c/two'];
    expect(selectModels(registryOf(FIVE), all).models).toEqual(all);
  });

  it('takes an explicit synthesis model, even one not among the models, even if it is down', async () => {
    const registry = await refreshed(FIVE, ['c']);
    expect(selectModels(registry, ['a/one', 'b/three'], 'c/two')).toEqual({
      models: ['a/one', 'b/three'],
      synthesisModel: 'c/two',
    });
    expect(selectModels(registry, undefined, 'a/one').synthesisModel).toBe('a/one');
  });

  it('an unknown model is a SelectionError pointing at it and listing the configured models', () => {
    const registry = registryOf(FIVE);
    const error = selectionError(() => selectModels(registry, ['a/one', 'b/four', 'x/nope']));
    expect(error.name).toBe('SelectionError');
    expect(error.pointer).toBe('/models/2');
    expect(error.message).toContain('x/nope');
    expect(error.known).toEqual(['a/five', 'b/four', 'b/three', 'c/two', 'a/one']);
    for (const id of error.known) expect(error.message).toContain(id);
  });

  it('points at the first unknown model', () => {
    const error = selectionError(() => selectModels(registryOf(FIVE), ['nope/0', 'nope/1']));
    expect(error.pointer).toBe('/models/0');
    expect(error.message).toContain('nope/0');
  });

  it('a model id without its provider prefix is unknown', () => {
    const error = selectionError(() => selectModels(registryOf(FIVE), ['five']));
    expect(error.pointer).toBe('/models/0');
  });

  it('an unknown synthesis model is a SelectionError at /synthesisModel', () => {
    const error = selectionError(() => selectModels(registryOf(FIVE), ['a/one'], 'x/nope'));
    expect(error.pointer).toBe('/synthesisModel');
    expect(error.message).toContain('x/nope');
    expect(error.message).toContain('a/five');
  });
});

describe('fallbackOrder', () => {
  it('is the synthesis model, then the others by weight', () => {
    const registry = registryOf(FIVE);
    expect(
      fallbackOrder(registry, { models: ['a/one', 'c/two', 'b/four', 'b/three'], synthesisModel: 'c/two' }),
    ).toEqual(['c/two', 'b/four', 'b/three', 'a/one']);
  });

  it('puts a synthesis model from outside the selection first, and lists every selected model after it', () => {
    const registry = registryOf(FIVE);
    expect(fallbackOrder(registry, { models: ['a/one', 'b/three'], synthesisModel: 'a/five' })).toEqual([
      'a/five',
      'b/three',
      'a/one',
    ]);
  });

  it('breaks ties by id', () => {
    const registry = registryOf([
      provider('p', [model('z', 1), model('y', 1), model('x', 1), model('w', 2)]),
    ]);
    expect(fallbackOrder(registry, { models: ['p/z', 'p/x', 'p/y', 'p/w'], synthesisModel: 'p/y' })).toEqual([
      'p/y',
      'p/w',
      'p/x',
      'p/z',
    ]);
  });

  it('follows the default selection', async () => {
    const registry = await refreshed(FIVE, ['a']);
    const selection = selectModels(registry);
    expect(selection).toEqual({ models: ['b/four', 'b/three', 'c/two'], synthesisModel: 'b/four' });
    expect(fallbackOrder(registry, selection)).toEqual(['b/four', 'b/three', 'c/two']);
  });
});
