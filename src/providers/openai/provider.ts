/** The OpenAI provider: Chat Completions through the official client. */
import type { AvailabilityCacheOptions } from '../shared/availability.js';
import type { Provider } from '../spec.js';
import { createChatCompletionsProvider, listModelsProbe } from './chat-completions-provider.js';
import { isReasoningModel } from './request.js';
import type { OpenAISettings } from './settings.js';

export function createOpenAIProvider(
  settings: OpenAISettings,
  options: AvailabilityCacheOptions = {},
): Provider {
  return createChatCompletionsProvider(
    settings,
    {
      kind: 'openai',
      apiKey: settings.apiKey,
      settingsFor: (model) => {
        const reasoning = isReasoningModel(model.id, model.reasoning);
        return {
          reasoning,
          maxTokensField: reasoning ? 'max_completion_tokens' : 'max_tokens',
          includeUsageInStream: true,
        };
      },
      probe: listModelsProbe,
    },
    options,
  );
}
