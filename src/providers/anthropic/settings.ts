import type { UpstreamSettings } from '../shared/settings.js';

/** Anthropic: `baseURL` defaults to api.anthropic.com (a trailing `/v1` is dropped). */
export type AnthropicSettings = UpstreamSettings;
