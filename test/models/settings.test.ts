/**
 * adaptSettings: a request's settings are adapted to each model, never
 * refused, and every change is a warning naming the model. Models come from
 * the real adapters (their capabilities), built without any network call.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig, ProviderConfig } from '../../src/config/types.js';
import { ModelRegistry, type RegisteredModel } from '../../src/models/registry.js';
import { adaptSettings } from '../../src/models/settings.js';
import { toProviderEntries } from '../../src/provider-entries.js';
import { PROVIDER_FACTORIES } from '../../src/providers/index.js';

function model(id: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return { id, weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [], ...extra };
}

const CONFIGS: ProviderConfig[] = [
  {
    name: 'openai',
    kind: 'openai',
    baseURL: 'http://127.0.0.1:9/v1',
    apiKey: 'sk-unused',
    timeoutMs: 1000,
    source: 'test',
    models: [
      model('gpt-4.1-mini', { maxOutputTokens: 32_768 }),
      model('gpt-4.1'),
      // Reasoning by name (o-series, gpt-5) unless the configuration says otherwise.
      model('o4-mini'),
      model('gpt-5-mini'),
      model('o3-custom', { reasoning: false }),
    ],
  },
  {
    name: 'anthropic',
    kind: 'anthropic',
    baseURL: 'http://127.0.0.1:9',
    apiKey: 'sk-ant-unused',
    timeoutMs: 1000,
    source: 'test',
    models: [
      model('claude-opus-4-5', { maxOutputTokens: 8192 }),
      model('claude-haiku-4-5'),
      model('claude-thinker', { reasoning: true, maxOutputTokens: 16_000 }),
    ],
  },
  {
    name: 'local',
    kind: 'openai-compatible',
    baseURL: 'http://127.0.0.1:9/v1',
    timeoutMs: 1000,
    source: 'test',
    models: [model('llama3.2', { maxOutputTokens: 4096 }), model('deepseek-r1:8b', { reasoning: true })],
  },
  {
    name: 'sim',
    kind: 'sim',
    timeoutMs: 1000,
    source: 'test',
    models: [model('alpha', { maxOutputTokens: 2048 })],
  },
];

const registry = new ModelRegistry(toProviderEntries(CONFIGS), PROVIDER_FACTORIES);
const get = (id: string): RegisteredModel => {
  const found = registry.get(id);
  if (!found) throw new Error(`no model ${id}`);
  return found;
};

describe('adaptSettings: nothing to adapt', () => {
  it('passes settings a model accepts through unchanged, without warnings', () => {
    for (const id of ['openai/gpt-4.1-mini', 'openai/gpt-4.1', 'local/llama3.2', 'sim/alpha']) {
      expect(adaptSettings(get(id), { temperature: 0.3, maxTokens: 1000 })).toEqual({
        settings: { temperature: 0.3, maxTokens: 1000 },
        warnings: [],
      });
    }
    expect(adaptSettings(get('anthropic/claude-opus-4-5'), { temperature: 0.3, maxTokens: 1000 })).toEqual({
      settings: { temperature: 0.3, maxTokens: 1000 },
      warnings: [],
    });
  });

  it('leaves unset settings unset for providers that do not require them', () => {
    expect(adaptSettings(get('openai/gpt-4.1'), {})).toEqual({
      settings: { temperature: undefined, maxTokens: undefined },
      warnings: [],
    });
  });

  it('keeps temperature 0 and the exact maximum', () => {
    expect(adaptSettings(get('openai/gpt-4.1'), { temperature: 0 }).settings.temperature).toBe(0);
    expect(adaptSettings(get('openai/gpt-4.1'), { temperature: 2 })).toMatchObject({
      settings: { temperature: 2 },
      warnings: [],
    });
    const anthropic = adaptSettings(get('anthropic/claude-opus-4-5'), { temperature: 1, maxTokens: 10 });
    expect(anthropic).toEqual({ settings: { temperature: 1, maxTokens: 10 }, warnings: [] });
    expect(adaptSettings(get('openai/gpt-4.1-mini'), { maxTokens: 32_768 }).warnings).toEqual([]);
  });
});

describe('adaptSettings: temperature', () => {
  it('clamps a temperature above the provider maximum (Anthropic: 1) and says so', () => {
    const { settings, warnings } = adaptSettings(get('anthropic/claude-opus-4-5'), {
      temperature: 1.5,
      maxTokens: 100,
    });
    expect(settings.temperature).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('anthropic/claude-opus-4-5');
    expect(warnings[0]).toContain('1.5');
    expect(warnings[0]).toMatch(/clamp/i);
  });

  it('leaves OpenAI-style models at 1.5', () => {
    for (const id of ['openai/gpt-4.1', 'local/llama3.2']) {
      expect(adaptSettings(get(id), { temperature: 1.5 })).toEqual({
        settings: { temperature: 1.5, maxTokens: undefined },
        warnings: [],
      });
    }
  });

  it('leaves the temperature out for reasoning models and says so', () => {
    for (const id of [
      'openai/o4-mini',
      'openai/gpt-5-mini',
      'local/deepseek-r1:8b',
      'anthropic/claude-thinker',
    ]) {
      const { settings, warnings } = adaptSettings(get(id), { temperature: 0.7, maxTokens: 100 });
      expect(settings.temperature).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(id);
      expect(warnings[0]).toMatch(/temperature/);
    }
  });

  it('a reasoning model with no temperature requested gets no warning about it', () => {
    expect(adaptSettings(get('openai/o4-mini'), {})).toEqual({
      settings: { temperature: undefined, maxTokens: undefined },
      warnings: [],
    });
  });

  it('the configuration can say an o-named model is not a reasoning model', () => {
    expect(adaptSettings(get('openai/o3-custom'), { temperature: 0.7 })).toEqual({
      settings: { temperature: 0.7, maxTokens: undefined },
      warnings: [],
    });
  });

  it('a reasoning model drops even a too-high temperature with one warning, not two', () => {
    const { settings, warnings } = adaptSettings(get('anthropic/claude-thinker'), {
      temperature: 1.8,
      maxTokens: 100,
    });
    expect(settings.temperature).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});

describe('adaptSettings: maxTokens', () => {
  it('lowers maxTokens to the model maximum and says so', () => {
    const { settings, warnings } = adaptSettings(get('local/llama3.2'), { maxTokens: 10_000 });
    expect(settings.maxTokens).toBe(4096);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('local/llama3.2');
    expect(warnings[0]).toContain('10000');
    expect(warnings[0]).toContain('4096');
  });

  it('leaves maxTokens alone when the model maximum is unknown', () => {
    expect(adaptSettings(get('openai/gpt-4.1'), { maxTokens: 32_000 })).toEqual({
      settings: { temperature: undefined, maxTokens: 32_000 },
      warnings: [],
    });
  });

  it('a provider that requires a limit gets the model maximum when none is asked for, with a warning', () => {
    const { settings, warnings } = adaptSettings(get('anthropic/claude-opus-4-5'), {});
    expect(settings).toEqual({ temperature: undefined, maxTokens: 8192 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('anthropic/claude-opus-4-5');
    expect(warnings[0]).toContain('8192');
  });

  it('a provider that requires a limit gets 4096 when the model maximum is unknown', () => {
    const { settings, warnings } = adaptSettings(get('anthropic/claude-haiku-4-5'), {});
    expect(settings.maxTokens).toBe(4096);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('anthropic/claude-haiku-4-5');
    expect(warnings[0]).toContain('4096');
  });

  it('lowers a too-large limit for Anthropic too', () => {
    const { settings, warnings } = adaptSettings(get('anthropic/claude-opus-4-5'), { maxTokens: 20_000 });
    expect(settings.maxTokens).toBe(8192);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('20000');
  });

  it('reports every change at once', () => {
    const { settings, warnings } = adaptSettings(get('anthropic/claude-opus-4-5'), {
      temperature: 1.9,
      maxTokens: 9000,
    });
    expect(settings).toEqual({ temperature: 1, maxTokens: 8192 });
    expect(warnings).toHaveLength(2);
    for (const warning of warnings) expect(warning).toContain('anthropic/claude-opus-4-5');
  });

  it('ignores the options it does not adapt and never mutates its input', () => {
    const options = Object.freeze({
      temperature: 1.5,
      maxTokens: 50_000,
      timeoutMs: 1000,
      cache: false,
      minResponses: 2,
      maxCostUsd: 1,
    });
    const { settings } = adaptSettings(get('anthropic/claude-opus-4-5'), options);
    expect(settings).toEqual({ temperature: 1, maxTokens: 8192 });
    expect(options.temperature).toBe(1.5);
  });
});

describe('the capabilities adaptSettings reads', () => {
  it('come from the adapters as configured', () => {
    expect(get('openai/gpt-4.1-mini').languageModel.capabilities).toMatchObject({
      temperature: true,
      maxTemperature: 2,
      requiresMaxTokens: false,
      maxOutputTokens: 32_768,
    });
    expect(get('openai/o4-mini').languageModel.capabilities.temperature).toBe(false);
    expect(get('anthropic/claude-opus-4-5').languageModel.capabilities).toMatchObject({
      temperature: true,
      maxTemperature: 1,
      requiresMaxTokens: true,
      maxOutputTokens: 8192,
    });
    expect(get('local/deepseek-r1:8b').languageModel.capabilities.temperature).toBe(false);
    expect(get('local/llama3.2').languageModel.capabilities.temperature).toBe(true);
  });
});
