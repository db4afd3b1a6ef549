/** A model call as the pattern engine asks for it, and what it gets back. */
import type { ChatMessage, Usage } from '../providers/spec.js';
import type { CallError } from './errors.js';
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
  /** Earlier turns of the conversation, sent before the rendered user message (shared, never copied). */
  history?: readonly ChatMessage[] | undefined;
  /** The rendered user message. */
  prompt: string;
  settings: CallSettings;
  /** Per-attempt timeout; the model's own (its provider's) when unset. */
  timeoutMs: number | undefined;
  cache: boolean;
  signal: AbortSignal;
  hooks: ModelCallHooks;
  /** Extra headers of every upstream request of the call (the trace context, `traceparent`). */
  upstreamHeaders?: Readonly<Record<string, string>> | undefined;
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
      /** Why the model stopped (`stop`, `length`, …), when its provider says. */
      finishReason?: string | undefined;
    }
  | { ok: false; error: CallError; latencyMs: number; attempts: number };

export interface ModelCaller {
  call(call: ModelCall): Promise<ModelCallOutcome>;
}
