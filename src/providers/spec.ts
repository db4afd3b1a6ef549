/**
 * The one interface every provider adapter implements. Adapters know nothing of
 * HTTP, jobs or patterns: they take a request, call their upstream and return
 * text and usage (whole, or as a stream of parts), or fail with a ProviderError.
 */
import type { ProviderError } from './errors.js';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * What a model is asked. Built once per call and never changed: every attempt
 * sends this same object (the signal, which differs per attempt, comes apart).
 */
export interface GenerateRequest {
  /** The provider's own model name (the part after `provider/`). */
  readonly model: string;
  readonly system?: string | undefined;
  readonly messages: readonly ChatMessage[];
  readonly temperature?: number | undefined;
  readonly maxTokens?: number | undefined;
}

export interface CallOptions {
  /** Aborts the call: the job's cancellation and the per-attempt timeout, combined by the caller. */
  signal?: AbortSignal | undefined;
  /** Extra headers of the upstream request (the trace context, `traceparent`). */
  headers?: Readonly<Record<string, string>> | undefined;
}

export interface GenerateResult {
  text: string;
  usage: Usage;
  finishReason?: string | undefined;
  upstreamRequestId?: string | undefined;
}

/** What a stream yields: text as it arrives, then one finish, or an error after the first text. */
export type StreamPart =
  | { type: 'text-delta'; text: string }
  | {
      type: 'finish';
      usage: Usage;
      finishReason?: string | undefined;
      upstreamRequestId?: string | undefined;
    }
  | { type: 'error'; error: ProviderError };

/** Receives streamed text as it arrives. */
export type DeltaListener = (text: string) => void;

export interface ModelCapabilities {
  streaming: boolean;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  /** Reasoning models take no `temperature`. */
  temperature: boolean;
  /** Highest temperature the provider accepts (Anthropic: 1). */
  maxTemperature: number;
  /** The provider requires `max_tokens` on every request (Anthropic). */
  requiresMaxTokens: boolean;
}

export interface LanguageModel {
  /** `provider/model`. */
  readonly id: string;
  readonly provider: string;
  /** The provider's own model name. */
  readonly model: string;
  readonly capabilities: ModelCapabilities;
  /** One whole answer; fails with a ProviderError. */
  generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult>;
  /**
   * Streams the answer as parts. A stream that fails before its first text
   * throws a ProviderError (the iteration rejects); one that fails after it
   * yields an `error` part and ends. A stream that succeeds ends with `finish`.
   */
  stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart>;
}

export interface Availability {
  available: boolean;
  reason?: string | undefined;
  checkedAt: string;
}

export interface Provider {
  readonly name: string;
  readonly kind: ProviderKind;
  readonly models: readonly LanguageModel[];
  /** A cheap call (such as listing models); implementations cache it for a short time. */
  checkAvailability(signal?: AbortSignal): Promise<Availability>;
}

export type ProviderKind = 'openai' | 'anthropic' | 'openai-compatible' | 'sim';
