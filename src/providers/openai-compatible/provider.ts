/**
 * Any server that speaks the Chat Completions API (Ollama, vLLM, LM Studio,
 * DeepSeek, Groq, Mistral, OpenRouter, Together…): the OpenAI adapter with
 * hooks for how such servers differ —
 * - the key is optional (a placeholder is sent, since the client needs one);
 * - streams may come without a usage chunk (usage is then estimated, about
 *   four characters a token — the OpenAI adapter does this whenever usage is
 *   missing);
 * - `/models` may not exist (a 404/405/501 there still means the server is up);
 * - error bodies come in other shapes (rewritten, see error-body.ts);
 * - the output limit is `max_tokens`, and a model takes a temperature unless
 *   its configuration says `reasoning: true`.
 */
import type OpenAI from 'openai';
import * as OpenAIErrors from 'openai';
import type { ProviderConfig } from '../../config/types.js';
import { createOpenAIStyleProvider, type OpenAIProviderOptions } from '../openai/provider.js';
import type { ProbeResult } from '../shared/availability.js';
import type { Provider } from '../spec.js';
import { withNormalizedErrorBodies } from './error-body.js';

/** Sent when no key is configured: the client refuses to start without one, local servers ignore it. */
export const PLACEHOLDER_API_KEY = 'not-needed';

const NO_MODELS_ENDPOINT = new Set([404, 405, 501]);

export function createOpenAICompatibleProvider(
  config: ProviderConfig,
  options: OpenAIProviderOptions = {},
): Provider {
  if (!config.baseURL) {
    throw new Error(`Provider "${config.name}" (${config.source}) is openai-compatible and needs a baseURL.`);
  }
  return createOpenAIStyleProvider(
    config,
    {
      kind: 'openai-compatible',
      apiKey: config.apiKey || PLACEHOLDER_API_KEY,
      baseURL: config.baseURL,
      settingsFor: (model) => ({
        reasoning: model.reasoning ?? false,
        maxTokensField: 'max_tokens',
        includeUsageInStream: true,
      }),
      probe: probeCompatible,
      fetch: withNormalizedErrorBodies(options.fetch),
    },
    options,
  );
}

async function probeCompatible(client: OpenAI, signal: AbortSignal): Promise<ProbeResult> {
  try {
    await client.models.list({ signal });
    return { available: true };
  } catch (error) {
    // The server answered, it just has no model list.
    if (
      error instanceof OpenAIErrors.APIError &&
      error.status !== undefined &&
      NO_MODELS_ENDPOINT.has(error.status)
    ) {
      return { available: true };
    }
    throw error;
  }
}
