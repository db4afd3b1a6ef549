/**
 * Builds the official OpenAI client the way Chorus needs it: no SDK retries
 * (the retry loop lives in models/), a large backstop timeout (the caller's
 * signal carries the real per-attempt timeout), nothing read from
 * `process.env`, and no SDK logging (its error logs would print raw payloads).
 */
import OpenAI from 'openai';
import { type FetchFunction, providerFetch } from '../provider-fetch.js';

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * The SDK's own timeout only covers the wait for response headers; the
 * caller's `request.signal` is the timeout that matters. This is a backstop
 * for a caller that forgets one.
 */
export const SDK_BACKSTOP_TIMEOUT_MS = 15 * 60_000;

/**
 * Options for every provider request, for a fetch given in place of the
 * provider fetch (which never follows redirects). A provider API answers; it
 * does not redirect — and with redirects off and no window, the global fetch
 * skips copying the request (a tee of its body stream) before sending it, a
 * measurable share of a call's CPU. A redirect then fails the call as a
 * connection error.
 */
export const PROVIDER_FETCH_OPTIONS = { redirect: 'error', window: null } as const satisfies RequestInit;

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
