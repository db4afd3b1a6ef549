import type { ProviderConfig } from '../config/types.js';
import { createAnthropicProvider } from './anthropic/index.js';
import { createOpenAIProvider } from './openai/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';
import { createSimProvider } from './sim/sim-provider.js';
import type { Provider, ProviderKind } from './spec.js';

/** One adapter per provider kind. */
export const PROVIDER_FACTORIES: Readonly<Record<ProviderKind, (config: ProviderConfig) => Provider>> = {
  openai: (config) => createOpenAIProvider(config),
  anthropic: (config) => createAnthropicProvider(config),
  'openai-compatible': (config) => createOpenAICompatibleProvider(config),
  sim: (config) => createSimProvider(config),
};
