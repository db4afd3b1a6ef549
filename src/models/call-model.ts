import { abortedError } from '../providers/errors.js';
import { collectStream } from '../providers/shared/stream-parts.js';
import type { DeltaListener, GenerateRequest, GenerateResult, Usage } from '../providers/spec.js';
import { type CallError, toCallError } from './errors.js';
import type { RegisteredModel } from './registry.js';
import type { CallSettings } from './settings.js';

export interface ModelCallHooks {
  /** A new attempt starts (1, 2, …). */
  onAttempt(attempt: number): void;
  onDelta(text: string, attempt: number): void;
  /** An attempt failed and another will follow after `delayMs`. */
  onRetry(error: CallError, attempt: number, delayMs: number): void;
}

export interface ModelCall {
  /** The API key (id) that asked: caches and shared calls never cross owners. */
  owner: string;
  /** For log lines about the call. */
  analysisId: string;
  modelId: string;
  system: string | undefined;
  /** The rendered user message. */
  prompt: string;
  settings: CallSettings;
  /** Per-attempt timeout; the provider's `timeoutMs` when unset. */
  timeoutMs: number | undefined;
  cache: boolean;
  signal: AbortSignal;
  hooks: ModelCallHooks;
}

export type ModelCallOutcome =
  | {
      ok: true;
      text: string;
      usage: Usage;
      costUsd: number;
      latencyMs: number;
      attempts: number;
      cached: boolean;
    }
  | { ok: false; error: CallError; latencyMs: number; attempts: number };

export interface ModelCaller {
  call(call: ModelCall): Promise<ModelCallOutcome>;
}

export interface AttemptInput {
  system: string | undefined;
  prompt: string;
  settings: CallSettings;
  timeoutMs: number | undefined;
}

/**
 * Runs one attempt of a model call with its own timeout, linked to the given
 * signal. The timeout aborts with a TimeoutError reason so adapters report
 * `timeout`, while the job's cancellation reports `cancelled`.
 */
export async function runAttempt(
  model: RegisteredModel,
  input: AttemptInput,
  signal: AbortSignal | undefined,
  onDelta: DeltaListener,
): Promise<GenerateResult> {
  if (signal?.aborted) throw abortedError(signal);
  const controller = new AbortController();
  const timeoutMs = input.timeoutMs ?? model.timeoutMs;
  const timer = setTimeout(
    () =>
      controller.abort(new DOMException(`The model call took longer than ${timeoutMs} ms.`, 'TimeoutError')),
    timeoutMs,
  );
  const forward = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  const request: GenerateRequest = {
    model: model.model,
    system: input.system,
    messages: [{ role: 'user', content: input.prompt }],
    temperature: input.settings.temperature,
    maxTokens: input.settings.maxTokens,
  };
  const options = { signal: controller.signal };
  try {
    if (model.languageModel.capabilities.streaming) {
      return await collectStream(model.languageModel.stream(request, options), onDelta);
    }
    return await model.languageModel.generate(request, options);
  } catch (error) {
    throw toCallError(error, controller.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}
