/** Shared builders for the provider adapter tests. */
import type { ProviderError } from '../../src/providers/errors.js';
import type { AdapterModel, UpstreamSettings } from '../../src/providers/shared/settings.js';
import { collectStream } from '../../src/providers/shared/stream-parts.js';
import type { CallOptions, GenerateRequest, LanguageModel, ProviderKind } from '../../src/providers/spec.js';

export const API_KEY = 'sk-test-SECRET-KEY-0123456789';

export function adapterModel(id: string, extra: Partial<AdapterModel> = {}): AdapterModel {
  return { id, ...extra };
}

/** An adapter's settings, named after its kind (`local` for openai-compatible). */
export function adapterSettings(
  kind: ProviderKind,
  baseURL: string | undefined,
  models: AdapterModel[],
  extra: Partial<UpstreamSettings> = {},
): UpstreamSettings {
  return { name: kind === 'openai-compatible' ? 'local' : kind, baseURL, apiKey: API_KEY, models, ...extra };
}

export function request(model: string, extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    model,
    system: 'You are terse.',
    messages: [{ role: 'user', content: 'What is the capital of France and why?' }],
    ...extra,
  };
}

export function modelOf(models: readonly LanguageModel[], id: string): LanguageModel {
  const found = models.find((model) => model.model === id);
  if (!found) throw new Error(`no model ${id}`);
  return found;
}

/** Runs a call that must fail and returns its error. */
export async function failure(call: Promise<unknown>): Promise<ProviderError> {
  try {
    await call;
  } catch (error) {
    return error as ProviderError;
  }
  throw new Error('expected the call to fail');
}

/** Streams and collects the deltas. */
export async function streamed(
  model: LanguageModel,
  generateRequest: GenerateRequest,
  options: CallOptions = {},
) {
  const deltas: string[] = [];
  const result = await collectStream(model.stream(generateRequest, options), (text) => deltas.push(text));
  return { result, deltas };
}
