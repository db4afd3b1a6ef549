import type { RegisteredModel } from './registry.js';

/** The generation settings a client asks for; a model may take them as they are or adapted. */
export interface GenerationOptions {
  temperature?: number | undefined;
  maxTokens?: number | undefined;
}

export interface CallSettings {
  temperature: number | undefined;
  maxTokens: number | undefined;
}

const DEFAULT_REQUIRED_MAX_TOKENS = 4096;

/**
 * Adapts the request's settings to what a model accepts, never refusing them;
 * every change is described in `warnings`.
 */
export function adaptSettings(
  model: RegisteredModel,
  options: GenerationOptions,
): { settings: CallSettings; warnings: string[] } {
  const capabilities = model.languageModel.capabilities;
  const warnings: string[] = [];
  let temperature = options.temperature;
  if (temperature !== undefined && !capabilities.temperature) {
    warnings.push(`${model.id}: temperature ${temperature} left out (the model takes no temperature).`);
    temperature = undefined;
  } else if (temperature !== undefined && temperature > capabilities.maxTemperature) {
    warnings.push(
      `${model.id}: temperature ${temperature} clamped to ${capabilities.maxTemperature} (the provider's maximum).`,
    );
    temperature = capabilities.maxTemperature;
  }
  let maxTokens = options.maxTokens;
  const limit = capabilities.maxOutputTokens;
  if (maxTokens !== undefined && limit !== null && maxTokens > limit) {
    warnings.push(`${model.id}: maxTokens ${maxTokens} lowered to ${limit} (the model's maximum output).`);
    maxTokens = limit;
  }
  if (maxTokens === undefined && capabilities.requiresMaxTokens) {
    maxTokens = limit ?? DEFAULT_REQUIRED_MAX_TOKENS;
    warnings.push(
      `${model.id}: maxTokens set to ${maxTokens} (the provider requires a limit on every request).`,
    );
  }
  return { settings: { temperature, maxTokens }, warnings };
}
