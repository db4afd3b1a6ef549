/**
 * Builds the official Anthropic client: no SDK retries, a large backstop
 * timeout (the caller's signal is the real one; an explicit timeout also
 * turns off the SDK's "non-streaming calls may take too long" refusal),
 * nothing read from `process.env`, no SDK logging.
 */
import Anthropic from '@anthropic-ai/sdk';
import { type FetchFunction, providerFetch } from '../shared/provider-fetch.js';
import { PROVIDER_FETCH_OPTIONS, SDK_BACKSTOP_TIMEOUT_MS } from '../shared/sdk-options.js';

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export interface AnthropicClientOptions {
  apiKey: string;
  baseURL?: string | undefined;
  fetch?: FetchFunction | undefined;
}

/**
 * The SDK appends `/v1/messages` itself, so a base URL configured the
 * OpenAI way (ending in `/v1`) loses that suffix.
 */
export function normalizeAnthropicBaseURL(baseURL: string | undefined): string {
  if (!baseURL) return DEFAULT_ANTHROPIC_BASE_URL;
  return baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');
}

export function createAnthropicClient(options: AnthropicClientOptions): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    baseURL: normalizeAnthropicBaseURL(options.baseURL),
    webhookKey: null,
    maxRetries: 0,
    timeout: SDK_BACKSTOP_TIMEOUT_MS,
    logLevel: 'off',
    fetchOptions: PROVIDER_FETCH_OPTIONS,
    fetch: options.fetch ?? providerFetch,
  });
}
