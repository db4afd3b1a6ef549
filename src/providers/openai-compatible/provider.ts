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
import { createChatCompletionsProvider } from '../openai/index.js';
import type { AvailabilityCacheOptions, ProbeResult } from '../shared/availability.js';
import type { Provider } from '../spec.js';
import { withNormalizedErrorBodies } from './error-body.js';
import type { OpenAICompatibleSettings } from './settings.js';

/** Sent when no key is configured: the client refuses to start without one, local servers ignore it. */
export const PLACEHOLDER_API_KEY = 'not-needed';

const NO_MODELS_ENDPOINT = new Set([404, 405, 501]);

export function createOpenAICompatibleProvider(
  settings: OpenAICompatibleSettings,
  options: AvailabilityCacheOptions = {},
): Provider {
  if (!settings.baseURL) {
    throw new Error(`Provider "${settings.name}" is openai-compatible and needs a baseURL.`);
  }
  return createChatCompletionsProvider(
    { ...settings, fetch: withNormalizedErrorBodies(settings.fetch) },
    {
      kind: 'openai-compatible',
      apiKey: settings.apiKey || PLACEHOLDER_API_KEY,
      settingsFor: (model) => ({
        reasoning: model.reasoning ?? false,
        maxTokensField: 'max_tokens',
        includeUsageInStream: true,
      }),
      probe: probeCompatible,
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
