/** The kinds of provider a configuration may name (each has an adapter). */
export const PROVIDER_KINDS = ['openai', 'anthropic', 'openai-compatible', 'sim'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Tracing, when an OTLP endpoint is set (the SDK reads the other OTEL_* variables itself). */
export interface TracingConfig {
  /** The OTLP traces endpoint itself (`…/v1/traces`). */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  /** Prompts and answers recorded on the model-call spans. */
  captureContent: boolean;
}

export interface ModelConfig {
  /** The provider's own model name; the public id is `<provider>/<id>`. */
  id: string;
  weight: number;
  contextWindow?: number | undefined;
  maxOutputTokens?: number | undefined;
  inputCostPerMTok: number;
  outputCostPerMTok: number;
  tags: string[];
  /** Reasoning models take no temperature (true for OpenAI o-series and gpt-5 by default). */
  reasoning?: boolean | undefined;
  /** Simulator only. */
  latencyMs?: number | undefined;
  /** Simulator only: probability (0–1) that a call fails. */
  failureRate?: number | undefined;
}

export interface ProviderConfig {
  name: string;
  kind: ProviderKind;
  baseURL?: string | undefined;
  /** The name of the variable that holds the key (never the key itself). */
  apiKeyEnv?: string | undefined;
  /** The key, resolved from `apiKeyEnv` at boot. */
  apiKey?: string | undefined;
  rpm?: number | undefined;
  concurrency?: number | undefined;
  timeoutMs: number;
  models: ModelConfig[];
  /** Where the provider came from, for boot errors: `env` or `<file>:<line>`. */
  source: string;
}

export const BUDGET_PERIODS = ['day', 'month', 'total'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** An API key as configured: its digest (never the key), its name and its limits. */
export interface ConfiguredKey {
  /** Shown in usage, logs and metrics; analyses and custom patterns belong to it. */
  name: string;
  /** SHA-256 of the key, hex. */
  sha256: string;
  budget?: { usd: number; period: BudgetPeriod } | undefined;
  /** Globs of the models it may use; undefined = all. */
  models?: string[] | undefined;
  /** Globs of the patterns it may use; undefined = all. */
  patterns?: string[] | undefined;
  rpm?: number | undefined;
  admin: boolean;
  /** `API_KEYS` or `<file>:<line>`, for boot errors. */
  source: string;
}
