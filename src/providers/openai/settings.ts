import type { UpstreamSettings } from '../shared/settings.js';

/** OpenAI itself: `baseURL` defaults to api.openai.com; reasoning models are known by name unless told. */
export type OpenAISettings = UpstreamSettings;
