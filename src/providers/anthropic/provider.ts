/** The Anthropic provider: Messages API through the official client. */
import type { ProviderConfig } from '../../config/types.js';
import { type AvailabilityCacheOptions, createAvailabilityCheck } from '../shared/availability.js';
import { toProviderError } from '../shared/http-errors.js';
import type { FetchFunction } from '../shared/provider-fetch.js';
import type { Provider } from '../spec.js';
import { createAnthropicClient } from './client.js';
import { createAnthropicModel } from './model.js';

export interface AnthropicProviderOptions extends AvailabilityCacheOptions {
  /** Replaces the provider fetch (tests, proxies). */
  fetch?: FetchFunction | undefined;
}

export function createAnthropicProvider(
  config: ProviderConfig,
  options: AnthropicProviderOptions = {},
): Provider {
  const client = config.apiKey
    ? createAnthropicClient({ apiKey: config.apiKey, baseURL: config.baseURL, fetch: options.fetch })
    : undefined;
  const models = config.models.map((model) => createAnthropicModel({ provider: config.name, model, client }));
  const check = createAvailabilityCheck(
    async (signal) => {
      if (!client) return { available: false, reason: 'no API key is configured' };
      await client.models.list({ limit: 1 }, { signal });
      return { available: true };
    },
    (error, signal) => toProviderError(error, { provider: config.name, signal }).message,
    options,
  );
  return {
    name: config.name,
    kind: 'anthropic',
    models,
    checkAvailability: (signal) => check(signal),
  };
}
