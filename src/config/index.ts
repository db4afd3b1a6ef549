import { ConfigError, type Env, parseEnv } from './env.js';
import { loadKeys } from './keys-file.js';
import { readModelsFile } from './models-file.js';
import type { ConfiguredKey, ModelConfig, ProviderConfig, TracingConfig } from './types.js';

export { ConfigError } from './env.js';
export { loadKeys } from './keys-file.js';
export type { BudgetPeriod, ConfiguredKey, ModelConfig, ProviderConfig, TracingConfig } from './types.js';

export interface Config extends Env {
  providers: ProviderConfig[];
  /** API_KEYS and KEYS_FILE's keys; none turns authentication off. */
  keys: ConfiguredKey[];
  /** True when no provider was configured and the built-in simulator serves. */
  simulatorOnly: boolean;
  /** Things worth a warning at boot (auth off, simulator only, …). */
  warnings: string[];
  /** Undefined (tracing off, no SDK loaded) unless an OTLP endpoint is set. */
  tracing: TracingConfig | undefined;
}

const DEFAULT_TIMEOUT_MS = 120_000;

function model(id: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return { id, weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [], ...overrides };
}

/** The built-in simulator: three models whose weights make the default selection deterministic. */
export function builtInSimulator(): ProviderConfig {
  return {
    name: 'sim',
    kind: 'sim',
    timeoutMs: DEFAULT_TIMEOUT_MS,
    source: 'built-in',
    models: [
      model('alpha', {
        weight: 3,
        contextWindow: 128_000,
        maxOutputTokens: 4096,
        tags: ['simulated'],
        latencyMs: 600,
      }),
      model('beta', {
        weight: 2,
        contextWindow: 128_000,
        maxOutputTokens: 4096,
        tags: ['simulated'],
        latencyMs: 800,
      }),
      model('gamma', {
        weight: 1,
        contextWindow: 128_000,
        maxOutputTokens: 4096,
        tags: ['simulated'],
        latencyMs: 1000,
      }),
    ],
  };
}

function environmentProviders(env: Env): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  if (env.OPENAI_API_KEY) {
    providers.push({
      name: 'openai',
      kind: 'openai',
      baseURL: env.OPENAI_BASE_URL,
      apiKeyEnv: 'OPENAI_API_KEY',
      apiKey: env.OPENAI_API_KEY,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      source: 'environment (OPENAI_API_KEY)',
      models: (env.OPENAI_MODELS?.length ? env.OPENAI_MODELS : ['gpt-4.1-mini', 'gpt-4.1']).map(
        (id, index, all) => model(id, { weight: all.length - index }),
      ),
    });
  } else if (env.OPENAI_MODELS || env.OPENAI_BASE_URL) {
    throw new ConfigError(
      'OPENAI_MODELS or OPENAI_BASE_URL is set but OPENAI_API_KEY is not: set the key too.',
    );
  }
  if (env.ANTHROPIC_API_KEY) {
    providers.push({
      name: 'anthropic',
      kind: 'anthropic',
      baseURL: env.ANTHROPIC_BASE_URL,
      apiKeyEnv: 'ANTHROPIC_API_KEY',
      apiKey: env.ANTHROPIC_API_KEY,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      source: 'environment (ANTHROPIC_API_KEY)',
      models: (env.ANTHROPIC_MODELS?.length ? env.ANTHROPIC_MODELS : ['claude-sonnet-4-6']).map(
        (id, index, all) => model(id, { weight: all.length - index, maxOutputTokens: 8192 }),
      ),
    });
  } else if (env.ANTHROPIC_MODELS || env.ANTHROPIC_BASE_URL) {
    throw new ConfigError(
      'ANTHROPIC_MODELS or ANTHROPIC_BASE_URL is set but ANTHROPIC_API_KEY is not: set the key too.',
    );
  }
  return providers;
}

function fileProviders(path: string, source: NodeJS.ProcessEnv): ProviderConfig[] {
  return readModelsFile(path).map((provider) => {
    const where = `${path}:${provider.line}`;
    let apiKey: string | undefined;
    if (provider.apiKeyEnv) {
      apiKey = source[provider.apiKeyEnv]?.trim() || undefined;
      if (!apiKey) {
        throw new ConfigError(
          `${where}: provider "${provider.name}" reads its key from ${provider.apiKeyEnv}, which is not set: set ${provider.apiKeyEnv} or remove apiKeyEnv.`,
        );
      }
    } else if (provider.kind === 'openai' || provider.kind === 'anthropic') {
      throw new ConfigError(
        `${where}: provider "${provider.name}" (kind ${provider.kind}) needs apiKeyEnv: the name of the variable that holds its key.`,
      );
    }
    if (provider.kind === 'openai-compatible' && !provider.baseURL) {
      throw new ConfigError(
        `${where}: provider "${provider.name}" (kind openai-compatible) needs a baseURL.`,
      );
    }
    const { line: _line, models, ...rest } = provider;
    return {
      ...rest,
      apiKey,
      timeoutMs: provider.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      source: where,
      models: models.map((entry) => ({ ...entry })),
    };
  });
}

/** Builds the one typed, validated Config from the environment (and MODELS_FILE). */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const env = parseEnv(source);
  const providers = [
    ...environmentProviders(env),
    ...(env.MODELS_FILE ? fileProviders(env.MODELS_FILE, source) : []),
  ];
  const seen = new Map<string, string>();
  for (const provider of providers) {
    const previous = seen.get(provider.name);
    if (previous) {
      throw new ConfigError(
        `Provider name "${provider.name}" is defined twice (${previous} and ${provider.source}): give each provider its own name.`,
      );
    }
    seen.set(provider.name, provider.source);
    const ids = new Set<string>();
    for (const entry of provider.models) {
      if (ids.has(entry.id)) {
        throw new ConfigError(
          `${provider.source}: model "${entry.id}" is listed twice in provider "${provider.name}".`,
        );
      }
      ids.add(entry.id);
    }
  }
  const warnings: string[] = [];
  const simulatorOnly = providers.length === 0;
  if (simulatorOnly) {
    providers.push(builtInSimulator());
    warnings.push(
      'No provider is configured: serving the built-in simulator (sim/alpha, sim/beta, sim/gamma). Set OPENAI_API_KEY, ANTHROPIC_API_KEY or MODELS_FILE to use real models.',
    );
  }
  const keys = loadKeys(env.API_KEYS, env.KEYS_FILE, source);
  if (keys.length === 0) {
    warnings.push(
      'Neither API_KEYS nor KEYS_FILE names a key: authentication is off and every client can use every /v1 route.',
    );
  }
  if (env.MAX_METADATA_BYTES > env.MAX_ANALYSIS_INPUT_BYTES) {
    throw new ConfigError(
      `MAX_METADATA_BYTES (${env.MAX_METADATA_BYTES}) is above MAX_ANALYSIS_INPUT_BYTES (${env.MAX_ANALYSIS_INPUT_BYTES}), which includes the metadata: lower the first or raise the second.`,
    );
  }
  if (env.MAX_RETAINED_BYTES < env.MAX_ANALYSIS_EVENT_BYTES) {
    throw new ConfigError(
      `MAX_RETAINED_BYTES (${env.MAX_RETAINED_BYTES}) is below MAX_ANALYSIS_EVENT_BYTES (${env.MAX_ANALYSIS_EVENT_BYTES}): a single large analysis could not be kept once finished. Raise MAX_RETAINED_BYTES or lower MAX_ANALYSIS_EVENT_BYTES.`,
    );
  }
  if (env.ROLE !== 'all' && env.STORE !== 'redis') {
    throw new ConfigError(
      `ROLE=${env.ROLE} needs STORE=redis: one process with the memory store must use ROLE=all.`,
    );
  }
  return { ...env, providers, keys, simulatorOnly, warnings, tracing: tracingConfig(env) };
}

/** Tracing is on with an OTLP endpoint, unless OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none says otherwise. */
function tracingConfig(env: Env): TracingConfig | undefined {
  // As the OTLP specification says: the signal's own endpoint is used as is, the general one gains /v1/traces.
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT && `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (!url || env.OTEL_SDK_DISABLED || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  return {
    url,
    protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
  };
}
