export {
  type ChatCompletionsHooks,
  createChatCompletionsProvider,
  listModelsProbe,
} from './chat-completions-provider.js';
export { createOpenAIClient, DEFAULT_OPENAI_BASE_URL } from './client.js';
export { createOpenAIProvider } from './provider.js';
export { isReasoningModel } from './request.js';
export type { OpenAISettings } from './settings.js';
