import { createAnthropicProvider } from './anthropic/index.js';
import type { AnthropicSettings } from './anthropic/settings.js';
import { createOpenAIProvider, type OpenAISettings } from './openai/index.js';
import { createOpenAICompatibleProvider, type OpenAICompatibleSettings } from './openai-compatible/index.js';
import type { SimSettings } from './sim/settings.js';
import { createSimProvider } from './sim/sim-provider.js';
import type { Provider, ProviderKind } from './spec.js';

/** What builds one provider: its kind and that adapter's own settings. */
export type ProviderSettings =
  | ({ kind: 'openai' } & OpenAISettings)
  | ({ kind: 'anthropic' } & AnthropicSettings)
  | ({ kind: 'openai-compatible' } & OpenAICompatibleSettings)
  | ({ kind: 'sim' } & SimSettings);

export type ProviderFactory = (settings: ProviderSettings) => Provider;

/** One adapter per provider kind. */
export const PROVIDER_FACTORIES: Readonly<Record<ProviderKind, ProviderFactory>> = {
  openai: (settings) => createOpenAIProvider(settings),
  anthropic: (settings) => createAnthropicProvider(settings),
  'openai-compatible': (settings) => createOpenAICompatibleProvider(settings),
  sim: (settings) => createSimProvider(settings),
};
