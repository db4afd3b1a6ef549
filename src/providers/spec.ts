/**
 * The one interface every provider adapter implements. Adapters know nothing of
 * HTTP, jobs or patterns: they take a request, call their upstream and return
 * text and usage, or throw a ProviderError.
 */

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface GenerateRequest {
  /** The provider's own model name (the part after `provider/`). */
  model: string;
  system?: string | undefined;
  messages: ChatMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Aborts the call: the job's cancellation and the per-attempt timeout, combined by the caller. */
  signal: AbortSignal;
}

export interface GenerateResult {
  text: string;
  usage: Usage;
  finishReason?: string | undefined;
  upstreamRequestId?: string | undefined;
}

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
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /**
   * Streams the answer: `onDelta` receives text as it arrives and the promise
   * resolves with the whole text and exact usage. A stream that fails rejects
   * with a ProviderError (after any deltas it already delivered).
   */
  stream(request: GenerateRequest, onDelta: DeltaListener): Promise<GenerateResult>;
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
