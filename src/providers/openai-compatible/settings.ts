import type { UpstreamSettings } from '../shared/settings.js';

/** A server that speaks Chat Completions: `baseURL` is required, the key is optional. */
export type OpenAICompatibleSettings = UpstreamSettings;
