export { createOpenAIClient, DEFAULT_OPENAI_BASE_URL } from './client.js';
export {
  createOpenAIProvider,
  createOpenAIStyleProvider,
  type OpenAIProviderOptions,
  type OpenAIStyleHooks,
} from './provider.js';
export { isReasoningModel } from './request.js';
