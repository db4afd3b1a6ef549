/**
 * The one place configuration becomes what the models layer and the adapters
 * are built from: each configured provider's adapter settings (kind, name,
 * key, base URL, models), its limits and call timeout, and what the registry
 * keeps of each model (weight, tags, prices). Neither layer reads Config.
 */
import type { ModelConfig, ProviderConfig } from './config/types.js';
import type { ModelEntry, ProviderEntry } from './models/registry.js';
import type { ProviderSettings } from './providers/index.js';
import type { AdapterModel } from './providers/shared/settings.js';
import type { SimModel } from './providers/sim/settings.js';

export function toProviderEntries(configs: readonly ProviderConfig[]): ProviderEntry[] {
  return configs.map(toProviderEntry);
}

export function toProviderEntry(config: ProviderConfig): ProviderEntry {
  return {
    adapter: adapterSettings(config),
    limits: { concurrency: config.concurrency, rpm: config.rpm },
    timeoutMs: config.timeoutMs,
    models: config.models.map(modelEntry),
    source: config.source,
  };
}

function adapterSettings(config: ProviderConfig): ProviderSettings {
  const { name } = config;
  if (config.kind === 'sim') return { kind: 'sim', name, models: config.models.map(simModel) };
  const upstream = {
    name,
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    models: config.models.map(adapterModel),
  };
  return { kind: config.kind, ...upstream };
}

function adapterModel({ id, contextWindow, maxOutputTokens, reasoning }: ModelConfig): AdapterModel {
  return { id, contextWindow, maxOutputTokens, reasoning };
}

function simModel(model: ModelConfig): SimModel {
  return { ...adapterModel(model), latencyMs: model.latencyMs, failureRate: model.failureRate };
}

function modelEntry({ id, weight, tags, inputCostPerMTok, outputCostPerMTok }: ModelConfig): ModelEntry {
  return { id, weight, tags, inputCostPerMTok, outputCostPerMTok };
}
