import { abortedError, isProviderError, ProviderError } from '../providers/errors.js';
import type { GenerateRequest, GenerateResult, Usage } from '../providers/spec.js';
import type { ModelRegistry, RegisteredModel } from './registry.js';
import type { CallSettings } from './settings.js';

export interface ModelCallHooks {
  /** A new attempt starts (1, 2, …). */
  onAttempt(attempt: number): void;
  onDelta(text: string, attempt: number): void;
  /** An attempt failed and another will follow after `delayMs`. */
  onRetry(error: ProviderError, attempt: number, delayMs: number): void;
}

export interface ModelCall {
  /** The API key (id) that asked: caches and shared calls never cross owners. */
  owner: string;
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
  | { ok: false; error: ProviderError; latencyMs: number; attempts: number };

export interface ModelCaller {
  call(call: ModelCall): Promise<ModelCallOutcome>;
}

export function toProviderError(error: unknown, signal?: AbortSignal): ProviderError {
  if (signal?.aborted) return abortedError(signal);
  if (isProviderError(error)) return error;
  return new ProviderError({
    code: 'internal',
    message: 'The model call failed unexpectedly.',
    cause: error,
  });
}

/**
 * Runs one attempt of a model call with its own timeout, linked to the job's
 * signal. The timeout aborts with a TimeoutError reason so adapters report
 * `timeout`, while the job's cancellation reports `cancelled`.
 */
export async function runAttempt(
  model: RegisteredModel,
  call: ModelCall,
  attempt: number,
  signal: AbortSignal,
): Promise<GenerateResult> {
  if (signal.aborted) throw abortedError(signal);
  const controller = new AbortController();
  const timeoutMs = call.timeoutMs ?? model.providerConfig.timeoutMs;
  const timer = setTimeout(
    () =>
      controller.abort(new DOMException(`The model call took longer than ${timeoutMs} ms.`, 'TimeoutError')),
    timeoutMs,
  );
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  const request: GenerateRequest = {
    model: model.model,
    system: call.system,
    messages: [{ role: 'user', content: call.prompt }],
    temperature: call.settings.temperature,
    maxTokens: call.settings.maxTokens,
    signal: controller.signal,
  };
  try {
    if (model.languageModel.capabilities.streaming) {
      return await model.languageModel.stream(request, (text) => call.hooks.onDelta(text, attempt));
    }
    return await model.languageModel.generate(request);
  } catch (error) {
    throw toProviderError(error, controller.signal);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
}

/** The plain caller: one attempt, no resilience. The resilient caller wraps the same attempt. */
export class DirectModelCaller implements ModelCaller {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  async call(call: ModelCall): Promise<ModelCallOutcome> {
    const model = this.registry.get(call.modelId);
    const started = this.now();
    if (!model) {
      return {
        ok: false,
        error: new ProviderError({
          code: 'bad_request',
          message: `Model ${call.modelId} is not configured.`,
        }),
        latencyMs: 0,
        attempts: 0,
      };
    }
    call.hooks.onAttempt(1);
    try {
      const result = await runAttempt(model, call, 1, call.signal);
      return {
        ok: true,
        text: result.text,
        usage: result.usage,
        costUsd: this.registry.cost(model.id, result.usage.inputTokens, result.usage.outputTokens),
        latencyMs: Math.round(this.now() - started),
        attempts: 1,
        cached: false,
      };
    } catch (error) {
      return {
        ok: false,
        error: toProviderError(error, call.signal),
        latencyMs: Math.round(this.now() - started),
        attempts: 1,
      };
    }
  }
}
