/** The Anthropic provider: Messages API through the official client. */
import { type AvailabilityCacheOptions, createAvailabilityCheck } from '../shared/availability.js';
import { toProviderError } from '../shared/http-errors.js';
import type { Provider } from '../spec.js';
import { createAnthropicClient } from './client.js';
import { createAnthropicModel } from './model.js';
import type { AnthropicSettings } from './settings.js';

export function createAnthropicProvider(
  settings: AnthropicSettings,
  options: AvailabilityCacheOptions = {},
): Provider {
  const client = settings.apiKey
    ? createAnthropicClient({ apiKey: settings.apiKey, baseURL: settings.baseURL, fetch: settings.fetch })
    : undefined;
  const models = settings.models.map((model) =>
    createAnthropicModel({ provider: settings.name, model, client }),
  );
  const check = createAvailabilityCheck(
    async (signal) => {
      if (!client) return { available: false, reason: 'no API key is configured' };
      await client.models.list({ limit: 1 }, { signal });
      return { available: true };
    },
    (error, signal) => toProviderError(error, { provider: settings.name, signal }).message,
    options,
  );
  return {
    name: settings.name,
    kind: 'anthropic',
    models,
    checkAvailability: (signal) => check(signal),
  };
}
