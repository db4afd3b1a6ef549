/**
 * A provider over an HTTP API, as every such adapter builds it: its models,
 * and an availability check that needs a key (no key: unavailable, nothing
 * sent) and describes a failed probe as the error mapping would.
 */
import type { LanguageModel, Provider, ProviderKind } from '../spec.js';
import { type AvailabilityCacheOptions, createAvailabilityCheck, type ProbeResult } from './availability.js';
import type { ErrorMapping } from './http-errors.js';

export interface UpstreamProviderParts<Client> {
  name: string;
  kind: ProviderKind;
  /** Undefined when the provider has no key. */
  client: Client | undefined;
  models: readonly LanguageModel[];
  probe(client: Client, signal: AbortSignal): Promise<ProbeResult>;
  /** The adapter's error mapping: a failed probe is described as a failed call would be. */
  mapError: ErrorMapping;
}

export function createUpstreamProvider<Client>(
  parts: UpstreamProviderParts<Client>,
  options: AvailabilityCacheOptions = {},
): Provider {
  const { name, client } = parts;
  const check = createAvailabilityCheck(
    async (signal) => {
      if (!client) return { available: false, reason: 'no API key is configured' };
      return parts.probe(client, signal);
    },
    (error, signal) => parts.mapError(error, { provider: name, signal }).message,
    options,
  );
  return { name, kind: parts.kind, models: parts.models, checkAvailability: (signal) => check(signal) };
}
