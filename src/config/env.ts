import { z } from 'zod';
import { maskUrl } from '../util/mask-url.js';

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** Why a webhook secret is unusable, or undefined: `whsec_` and 24–64 bytes of base64, as Standard Webhooks says. */
function webhookSecretProblem(secret: string): string | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined;
  if (encoded === undefined) return 'must start with whsec_ followed by base64 (24 to 64 random bytes)';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    return 'is not valid base64 after whsec_';
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64)
    return `holds ${bytes} bytes: use 24 to 64 random bytes in base64 after whsec_`;
  return undefined;
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((value) => value === 'true');

/** The OTLP protocols Chorus exports with (both over HTTP; gRPC is not built in). */
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], {
  message: 'must be http/protobuf or http/json (gRPC is not supported: point it at an OTLP/HTTP port, 4318)',
});

/** The environment variables of the contract, validated at boot. */
export const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: integer(0, 65_535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // A list that is set but names no key (`' , '`, a compose file interpolating unset variables)
  // would turn authentication off: that is a boot error, never a silent fail-open.
  API_KEYS: optionalString.pipe(z.string().optional()).transform((value, ctx) => {
    const keys = value ? commaList.parse(value) : [];
    if (value && keys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          'is set but names no key (only commas and spaces): set one or more keys, or unset API_KEYS to turn authentication off',
      });
      return z.NEVER;
    }
    return keys;
  }),
  /** Wrong API keys one client address may send per minute before its requests answer 429. */
  AUTH_FAILURES_PER_MINUTE: integer(1, 1_000_000).default(20),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString.pipe(z.url().optional()),
  OPENAI_MODELS: optionalString.transform((value) => (value ? commaList.parse(value) : undefined)),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString.pipe(z.url().optional()),
  ANTHROPIC_MODELS: optionalString.transform((value) => (value ? commaList.parse(value) : undefined)),
  MODELS_FILE: optionalString,
  /** YAML or JSON file of named API keys with budgets and limits. */
  KEYS_FILE: optionalString,
  STORE: z.enum(['memory', 'redis']).default('memory'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** Key prefix in Redis: deployments sharing one Redis use different prefixes. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('chorus'),
  /** A Redis command unanswered this long fails, and its request answers 503 (Redis paused or unreachable). */
  REDIS_COMMAND_TIMEOUT_MS: integer(50, 600_000).default(2_000),
  /** A worker's lock on an analysis lasts this long without renewal (Redis mode). */
  WORKER_LOCK_MS: integer(1_000, 600_000).default(10_000),
  /** How often workers look for analyses whose worker died (Redis mode). */
  WORKER_STALLED_CHECK_MS: integer(500, 600_000).default(5_000),
  /** Times an analysis may lose its worker before it fails with worker_lost. */
  WORKER_MAX_STALLS: integer(0, 100).default(2),
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  JOB_CONCURRENCY: integer(1, 10_000).default(32),
  QUEUE_MAX: integer(0, 1_000_000).default(1000),
  ANALYSIS_TTL_SECONDS: integer(1, 31_536_000).default(86_400),
  MAX_RETAINED_ANALYSES: integer(1, 10_000_000).default(10_000),
  RATE_LIMIT_PER_MINUTE: optionalString
    .transform((value) => (value === undefined ? undefined : Number(value)))
    .pipe(z.number().int().min(1).max(1_000_000).optional()),
  BODY_LIMIT_BYTES: integer(1024, 100 * 1024 * 1024).default(2_097_152),
  /** Time a client has to send a whole request (headers and body) before it is answered 408. */
  REQUEST_TIMEOUT_MS: integer(100, 3_600_000).default(30_000),
  /** How long an idle keep-alive connection stays open between requests. */
  KEEP_ALIVE_TIMEOUT_MS: integer(100, 3_600_000).default(72_000),
  /** Most problems listed in a 400's `errors` (the rest are counted in one last entry). */
  MAX_VALIDATION_ERRORS: integer(1, 1000).default(20),
  /** Custom patterns one API key may register. */
  MAX_CUSTOM_PATTERNS_PER_KEY: integer(0, 100_000).default(100),
  /** Largest custom pattern definition, in bytes of compact JSON. */
  MAX_PATTERN_BYTES: integer(1024, 10 * 1024 * 1024).default(65_536),
  /** Most UTF-8 bytes the prompts of one pattern preview may hold together (413 above it). */
  MAX_PREVIEW_BYTES: integer(65_536, 1024 * 1024 * 1024).default(16_777_216),
  /** Largest analysis input: prompt, system and metadata, as UTF-8 JSON (413 above it). */
  MAX_ANALYSIS_INPUT_BYTES: integer(1024, 100 * 1024 * 1024).default(1_048_576),
  /** Largest metadata of an analysis, as UTF-8 JSON (400 above it). */
  MAX_METADATA_BYTES: integer(2, 100 * 1024 * 1024).default(16_384),
  /** Event log bytes per analysis past which model deltas are no longer stored or streamed. */
  MAX_ANALYSIS_EVENT_BYTES: integer(65_536, 1024 * 1024 * 1024).default(8_388_608),
  /** Bytes of finished analyses (record, input and events) kept; the oldest go first. */
  MAX_RETAINED_BYTES: integer(1_048_576, 1024 * 1024 * 1024 * 1024).default(268_435_456),
  PATTERNS_DIR: optionalString,
  CORS_ORIGINS: optionalString.transform((value) => (value ? commaList.parse(value) : [])),
  STREAM_TOKEN_SECRET: optionalString.pipe(z.string().min(16).optional()),
  SHUTDOWN_GRACE_MS: integer(0, 600_000).default(10_000),
  /** Event streams one analysis may have open at once on this instance; past it, 429. */
  MAX_SUBSCRIBERS_PER_ANALYSIS: integer(1, 1_000_000).default(100),
  /** Event streams this instance keeps open at once, over all analyses; past it, 429. */
  MAX_EVENT_STREAMS: integer(1, 10_000_000).default(10_000),
  /** Signs webhooks (Standard Webhooks): `whsec_` and 24–64 random bytes in base64. Unset: webhooks are off. */
  WEBHOOK_SECRET: optionalString.superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : webhookSecretProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** Lets webhooks reach loopback, private, link-local and multicast addresses. */
  WEBHOOK_ALLOW_PRIVATE: flag('false'),
  /** A delivery attempt with no complete answer this long is a failure (and is retried). */
  WEBHOOK_TIMEOUT_MS: integer(100, 600_000).default(10_000),
  /** Webhook deliveries in flight at once, per process. */
  WEBHOOK_CONCURRENCY: integer(1, 10_000).default(16),
  // OpenTelemetry: the standard variables. The SDK reads the others (headers, sampler, time-outs) itself.
  /** Where traces go over OTLP/HTTP (`/v1/traces` is added); unset with the next one: tracing is off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** The traces endpoint itself (used as is); overrides the one above. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  /** `otlp` (or unset) exports traces; `none` turns tracing off. */
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none'], { message: 'must be otlp or none (Chorus exports over OTLP only)' })
    .optional(),
  /** `true` turns tracing off whatever the endpoint. */
  OTEL_SDK_DISABLED: flag('false'),
  /** `true` records prompts and answers on the model-call spans. */
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: flag('false'),
});

export type Env = z.output<typeof envSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment; a bad value throws a ConfigError naming the variable. */
export function parseEnv(source: NodeJS.ProcessEnv): Env {
  // An empty variable counts as unset (Compose passes `VAR=` for `${VAR:-}`).
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value?.trim()));
  const result = envSchema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const value = source[name];
    // Never a secret: keys are not echoed, and a URL's credentials are masked.
    const shown =
      name.includes('KEY') || name.includes('SECRET')
        ? ''
        : ` (got ${JSON.stringify(value === undefined ? value : maskUrl(value))})`;
    return `${name}: ${issue.message}${shown}`;
  });
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}
