export { createAnthropicClient, DEFAULT_ANTHROPIC_BASE_URL, normalizeAnthropicBaseURL } from './client.js';
export { createAnthropicProvider } from './provider.js';
export { ANTHROPIC_MAX_TEMPERATURE, DEFAULT_ANTHROPIC_MAX_TOKENS } from './request.js';
export type { AnthropicSettings } from './settings.js';
