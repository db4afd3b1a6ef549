/**
 * The OpenAI provider (Chat Completions through the official client), and the
 * shared factory the OpenAI-compatible provider reuses with its own hooks.
 */
import type OpenAI from 'openai';
import type { ModelConfig, ProviderConfig } from '../../config/types.js';
import {
  type AvailabilityCacheOptions,
  createAvailabilityCheck,
  type ProbeResult,
} from '../shared/availability.js';
import { toProviderError } from '../shared/http-errors.js';
import type { FetchFunction } from '../shared/provider-fetch.js';
import type { Provider, ProviderKind } from '../spec.js';
import { createOpenAIClient } from './client.js';
import { createOpenAIModel } from './model.js';
import { isReasoningModel, type ModelSettings } from './request.js';

export interface OpenAIProviderOptions extends AvailabilityCacheOptions {
  /** Replaces the provider fetch (tests, proxies). */
  fetch?: FetchFunction | undefined;
}

/** What differs between OpenAI itself and the servers that copy its API. */
export interface OpenAIStyleHooks {
  kind: Extract<ProviderKind, 'openai' | 'openai-compatible'>;
  /** The key to send; undefined means the provider cannot be called. */
  apiKey: string | undefined;
  baseURL: string | undefined;
  settingsFor(model: ModelConfig): ModelSettings;
  /** The availability probe (by default: list models, any success means available). */
  probe(client: OpenAI, signal: AbortSignal): Promise<ProbeResult>;
  fetch?: FetchFunction | undefined;
}

export function createOpenAIProvider(config: ProviderConfig, options: OpenAIProviderOptions = {}): Provider {
  return createOpenAIStyleProvider(
    config,
    {
      kind: 'openai',
      apiKey: config.apiKey,
      baseURL: config.baseURL,
      settingsFor: (model) => {
        const reasoning = isReasoningModel(model.id, model.reasoning);
        return {
          reasoning,
          maxTokensField: reasoning ? 'max_completion_tokens' : 'max_tokens',
          includeUsageInStream: true,
        };
      },
      probe: listModelsProbe,
      fetch: options.fetch,
    },
    options,
  );
}

export async function listModelsProbe(client: OpenAI, signal: AbortSignal): Promise<ProbeResult> {
  await client.models.list({ signal });
  return { available: true };
}

export function createOpenAIStyleProvider(
  config: ProviderConfig,
  hooks: OpenAIStyleHooks,
  options: AvailabilityCacheOptions = {},
): Provider {
  const client = hooks.apiKey
    ? createOpenAIClient({ apiKey: hooks.apiKey, baseURL: hooks.baseURL, fetch: hooks.fetch })
    : undefined;
  const models = config.models.map((model) =>
    createOpenAIModel({ provider: config.name, model, settings: hooks.settingsFor(model), client }),
  );
  const check = createAvailabilityCheck(
    async (signal) => {
      if (!client) return { available: false, reason: 'no API key is configured' };
      return hooks.probe(client, signal);
    },
    (error, signal) => toProviderError(error, { provider: config.name, signal }).message,
    options,
  );
  return {
    name: config.name,
    kind: hooks.kind,
    models,
    checkAvailability: (signal) => check(signal),
  };
}
