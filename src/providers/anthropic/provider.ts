/** The Anthropic provider: Messages API through the official client. */
import type { AvailabilityCacheOptions } from '../shared/availability.js';
import { createUpstreamProvider } from '../shared/upstream-provider.js';
import type { Provider } from '../spec.js';
import { createAnthropicClient } from './client.js';
import { toAnthropicError } from './errors.js';
import { createAnthropicModel } from './model.js';
import type { AnthropicSettings } from './settings.js';

export function createAnthropicProvider(
  settings: AnthropicSettings,
  options: AvailabilityCacheOptions = {},
): Provider {
  const client = settings.apiKey
    ? createAnthropicClient({ apiKey: settings.apiKey, baseURL: settings.baseURL, fetch: settings.fetch })
    : undefined;
  return createUpstreamProvider(
    {
      name: settings.name,
      kind: 'anthropic',
      client,
      models: settings.models.map((model) =>
        createAnthropicModel({ provider: settings.name, model, client }),
      ),
      mapError: toAnthropicError,
      probe: async (anthropic, signal) => {
        await anthropic.models.list({ limit: 1 }, { signal });
        return { available: true };
      },
    },
    options,
  );
}
