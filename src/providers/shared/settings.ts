/**
 * What every adapter is told, passed in by whoever builds it (adapters read
 * no configuration of their own): its name, its models, and for the ones
 * that call an upstream where and with which key.
 */
import type { FetchFunction } from './provider-fetch.js';

/** One of an adapter's models. */
export interface AdapterModel {
  /** The provider's own model name. */
  id: string;
  contextWindow?: number | undefined;
  maxOutputTokens?: number | undefined;
  /** Reasoning models take no temperature (each adapter says what it assumes when unset). */
  reasoning?: boolean | undefined;
}

export interface AdapterSettings<Model extends AdapterModel = AdapterModel> {
  /** The provider's name: model ids are `<name>/<model>`, and every error message starts with it. */
  name: string;
  models: readonly Model[];
}

/** An adapter over an HTTP API. */
export interface UpstreamSettings extends AdapterSettings {
  /** Undefined: the adapter cannot call its upstream (every call fails with `auth_failed`). */
  apiKey?: string | undefined;
  baseURL?: string | undefined;
  /** Replaces the provider fetch (tests, proxies). */
  fetch?: FetchFunction | undefined;
}
