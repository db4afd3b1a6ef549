/**
 * The shared factory of every Chat Completions provider: OpenAI itself and
 * the servers that copy its API (openai-compatible builds on this, through
 * the OpenAI adapter's index). What differs between them are the hooks.
 */
import type OpenAI from 'openai';
import type { AvailabilityCacheOptions, ProbeResult } from '../shared/availability.js';
import type { AdapterModel, UpstreamSettings } from '../shared/settings.js';
import { createUpstreamProvider } from '../shared/upstream-provider.js';
import type { Provider, ProviderKind } from '../spec.js';
import { createOpenAIClient } from './client.js';
import { toOpenAIError } from './errors.js';
import { createOpenAIModel } from './model.js';
import type { ModelSettings } from './request.js';

/** What differs between OpenAI itself and the servers that copy its API. */
export interface ChatCompletionsHooks {
  kind: Extract<ProviderKind, 'openai' | 'openai-compatible'>;
  /** The key to send; undefined means the provider cannot be called. */
  apiKey: string | undefined;
  settingsFor(model: AdapterModel): ModelSettings;
  /** The availability probe (by default: list models, any success means available). */
  probe(client: OpenAI, signal: AbortSignal): Promise<ProbeResult>;
}

export async function listModelsProbe(client: OpenAI, signal: AbortSignal): Promise<ProbeResult> {
  await client.models.list({ signal });
  return { available: true };
}

export function createChatCompletionsProvider(
  settings: UpstreamSettings,
  hooks: ChatCompletionsHooks,
  options: AvailabilityCacheOptions = {},
): Provider {
  const client = hooks.apiKey
    ? createOpenAIClient({ apiKey: hooks.apiKey, baseURL: settings.baseURL, fetch: settings.fetch })
    : undefined;
  return createUpstreamProvider(
    {
      name: settings.name,
      kind: hooks.kind,
      client,
      models: settings.models.map((model) =>
        createOpenAIModel({ provider: settings.name, model, settings: hooks.settingsFor(model), client }),
      ),
      probe: hooks.probe,
      mapError: toOpenAIError,
    },
    options,
  );
}
