/**
 * Builds the official OpenAI client the way Chorus needs it: no SDK retries
 * (the retry loop lives in models/), a large backstop timeout (the caller's
 * signal carries the real per-attempt timeout), nothing read from
 * `process.env`, and no SDK logging (its error logs would print raw payloads).
 */
import OpenAI from 'openai';
import { type FetchFunction, providerFetch } from '../shared/provider-fetch.js';
import { PROVIDER_FETCH_OPTIONS, SDK_BACKSTOP_TIMEOUT_MS } from '../shared/sdk-options.js';

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIClientOptions {
  apiKey: string;
  baseURL?: string | undefined;
  /** Replaces the provider fetch (the OpenAI-compatible adapter rewrites error bodies with it). */
  fetch?: FetchFunction | undefined;
}

export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? DEFAULT_OPENAI_BASE_URL,
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: SDK_BACKSTOP_TIMEOUT_MS,
    logLevel: 'off',
    fetchOptions: PROVIDER_FETCH_OPTIONS,
    fetch: options.fetch ?? providerFetch,
  });
}
