export { normalizeErrorBody, withNormalizedErrorBodies } from './error-body.js';
export { createOpenAICompatibleProvider, PLACEHOLDER_API_KEY } from './provider.js';
export type { OpenAICompatibleSettings } from './settings.js';
