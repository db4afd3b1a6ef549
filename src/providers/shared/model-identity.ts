import type { LanguageModel, ModelCapabilities } from '../spec.js';
import type { AdapterModel } from './settings.js';

/** What differs in how adapters' models take settings. */
export type ModelTraits = Pick<ModelCapabilities, 'temperature' | 'maxTemperature' | 'requiresMaxTokens'>;

/** A model's id, names and capabilities: every adapter's models stream. */
export function modelIdentity(
  provider: string,
  model: AdapterModel,
  traits: ModelTraits,
): Pick<LanguageModel, 'id' | 'provider' | 'model' | 'capabilities'> {
  return {
    id: `${provider}/${model.id}`,
    provider,
    model: model.id,
    capabilities: {
      streaming: true,
      contextWindow: model.contextWindow ?? null,
      maxOutputTokens: model.maxOutputTokens ?? null,
      ...traits,
    },
  };
}
