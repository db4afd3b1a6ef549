/**
 * loadConfig(env) from the environment alone: defaults, the built-in
 * simulator, the OpenAI and Anthropic providers, and boot errors that name
 * the variable without echoing secrets.
 */
import { describe, expect, it } from 'vitest';
import { builtInSimulator, type Config, ConfigError, loadConfig } from '../../src/config/index.js';
import { configError, providerNamed } from '../support/config.js';

describe('loadConfig: defaults', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 3000,
      LOG_LEVEL: 'info',
      API_KEYS: [],
      STORE: 'memory',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_COMMAND_TIMEOUT_MS: 2_000,
      ROLE: 'all',
      JOB_CONCURRENCY: 32,
      QUEUE_MAX: 1000,
      ANALYSIS_TTL_SECONDS: 86_400,
      MAX_RETAINED_ANALYSES: 10_000,
      BODY_LIMIT_BYTES: 2_097_152,
      CORS_ORIGINS: [],
      MAX_SUBSCRIBERS_PER_ANALYSIS: 100,
      MAX_EVENT_STREAMS: 10_000,
    });
    expect(config.RATE_LIMIT_PER_MINUTE).toBeUndefined();
    expect(config.STREAM_TOKEN_SECRET).toBeUndefined();
    expect(config.MODELS_FILE).toBeUndefined();
  });

  it('parses numbers and comma lists', () => {
    const config = loadConfig({
      PORT: '8080',
      API_KEYS: ' key-one , key-two,, ',
      CORS_ORIGINS: 'https://a.example,https://b.example',
      RATE_LIMIT_PER_MINUTE: '120',
      JOB_CONCURRENCY: '4',
    });
    expect(config.PORT).toBe(8080);
    expect(config.API_KEYS).toEqual(['key-one', 'key-two']);
    expect(config.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(config.RATE_LIMIT_PER_MINUTE).toBe(120);
    expect(config.JOB_CONCURRENCY).toBe(4);
  });

  it('warns when authentication is off, not when API_KEYS is set', () => {
    expect(loadConfig({}).warnings.some((warning) => warning.includes('API_KEYS'))).toBe(true);
    expect(loadConfig({ API_KEYS: 'k1' }).warnings.some((warning) => warning.includes('API_KEYS'))).toBe(
      false,
    );
  });
});

describe('loadConfig: API_KEYS never fails open', () => {
  // A compose file interpolating unset variables (`API_KEYS=${KEY_A},${KEY_B}`) yields a list of blanks.
  it.each([' , ', ',', ',,,', ' ,\t, '])('API_KEYS=%j is a boot error naming API_KEYS', (value) => {
    const error = configError({ API_KEYS: value });
    expect(error.message).toContain('API_KEYS');
    expect(error.message).toMatch(/names no key/);
  });

  it('an unset or empty API_KEYS turns authentication off (with the warning)', () => {
    for (const env of [{}, { API_KEYS: '' }, { API_KEYS: '   ' }]) {
      const config = loadConfig(env);
      expect(config.API_KEYS).toEqual([]);
      expect(config.warnings.some((warning) => warning.includes('API_KEYS'))).toBe(true);
    }
  });
});

describe('loadConfig: the built-in simulator', () => {
  it('serves sim/alpha, sim/beta, sim/gamma with a warning when no provider is configured', () => {
    const config = loadConfig({});
    expect(config.simulatorOnly).toBe(true);
    expect(config.providers).toHaveLength(1);
    const sim = config.providers[0]!;
    expect(sim).toMatchObject({ name: 'sim', kind: 'sim' });
    expect(sim.models.map((model) => model.id)).toEqual(['alpha', 'beta', 'gamma']);
    // Distinct weights make the default selection deterministic.
    expect(sim.models.map((model) => model.weight)).toEqual([3, 2, 1]);
    const warning = config.warnings.find((entry) => /simulator/i.test(entry));
    expect(warning).toBeDefined();
    expect(warning).toContain('sim/alpha');
    expect(builtInSimulator()).toEqual(sim);
  });

  it('is off as soon as OPENAI_API_KEY is set', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-env-openai' });
    expect(config.simulatorOnly).toBe(false);
    expect(config.providers.map((provider) => provider.name)).toEqual(['openai']);
    expect(config.warnings.some((warning) => /simulator/i.test(warning))).toBe(false);
  });

  it('is off as soon as ANTHROPIC_API_KEY is set', () => {
    const config = loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-env' });
    expect(config.simulatorOnly).toBe(false);
    expect(config.providers.map((provider) => provider.name)).toEqual(['anthropic']);
  });

  it('treats a blank key as unset', () => {
    expect(loadConfig({ OPENAI_API_KEY: '   ' }).simulatorOnly).toBe(true);
  });
});

describe('loadConfig: providers from the environment', () => {
  it('builds the openai provider with its default models, highest weight first', () => {
    const openai = providerNamed(loadConfig({ OPENAI_API_KEY: 'sk-env-openai' }), 'openai')!;
    expect(openai).toMatchObject({
      kind: 'openai',
      apiKey: 'sk-env-openai',
      apiKeyEnv: 'OPENAI_API_KEY',
      baseURL: undefined,
    });
    expect(openai.models.map((model) => [model.id, model.weight])).toEqual([
      ['gpt-4.1-mini', 2],
      ['gpt-4.1', 1],
    ]);
    for (const model of openai.models) {
      expect(model).toMatchObject({ inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] });
    }
  });

  it('takes OPENAI_MODELS and OPENAI_BASE_URL, weighting models in the order given', () => {
    const openai = providerNamed(
      loadConfig({
        OPENAI_API_KEY: 'sk-env-openai',
        OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1',
        OPENAI_MODELS: 'o4-mini, gpt-4.1 ,gpt-4.1-mini',
      }),
      'openai',
    )!;
    expect(openai.baseURL).toBe('http://127.0.0.1:9999/v1');
    expect(openai.models.map((model) => [model.id, model.weight])).toEqual([
      ['o4-mini', 3],
      ['gpt-4.1', 2],
      ['gpt-4.1-mini', 1],
    ]);
  });

  it('builds the anthropic provider, with an output limit on its default model', () => {
    const config = loadConfig({
      ANTHROPIC_API_KEY: 'sk-ant-env',
      ANTHROPIC_MODELS: 'claude-sonnet-4-5,claude-haiku-4-5',
    });
    const anthropic = providerNamed(config, 'anthropic')!;
    expect(anthropic).toMatchObject({ kind: 'anthropic', apiKey: 'sk-ant-env' });
    expect(anthropic.models.map((model) => [model.id, model.weight])).toEqual([
      ['claude-sonnet-4-5', 2],
      ['claude-haiku-4-5', 1],
    ]);
  });

  it('serves both when both keys are set', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-a', ANTHROPIC_API_KEY: 'sk-b' });
    expect(config.providers.map((provider) => provider.name)).toEqual(['openai', 'anthropic']);
  });

  it('refuses OPENAI_MODELS or OPENAI_BASE_URL without OPENAI_API_KEY, naming the key variable', () => {
    expect(configError({ OPENAI_MODELS: 'gpt-4.1' }).message).toContain('OPENAI_API_KEY');
    expect(configError({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }).message).toContain('OPENAI_API_KEY');
    expect(configError({ ANTHROPIC_MODELS: 'claude-haiku-4-5' }).message).toContain('ANTHROPIC_API_KEY');
  });

  // A comma list with no names in it must not yield a provider that serves nothing (the file's
  // providers need at least one model; with zero models every default POST /v1/analyses is a 500).
  it('never builds a provider without models from an empty OPENAI_MODELS list', () => {
    let config: Config;
    try {
      config = loadConfig({ OPENAI_API_KEY: 'sk-a', OPENAI_MODELS: ' , ' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('OPENAI_MODELS');
      return;
    }
    expect(providerNamed(config, 'openai')?.models.length).toBeGreaterThan(0);
  });
});

describe('loadConfig: boot errors name the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['STORE', 'postgres'],
    ['ROLE', 'boss'],
    ['JOB_CONCURRENCY', '0'],
    ['QUEUE_MAX', '-1'],
    ['BODY_LIMIT_BYTES', 'lots'],
    ['RATE_LIMIT_PER_MINUTE', 'fast'],
    ['OPENAI_BASE_URL', 'not a url'],
    ['AUTH_FAILURES_PER_MINUTE', '0'],
    ['REQUEST_TIMEOUT_MS', '10'],
    ['KEEP_ALIVE_TIMEOUT_MS', 'forever'],
    ['MAX_VALIDATION_ERRORS', '0'],
    ['MAX_CUSTOM_PATTERNS_PER_KEY', '-1'],
    ['MAX_PATTERN_BYTES', '100'],
    ['MAX_PREVIEW_BYTES', '1000'],
    ['MAX_PREVIEW_BYTES', 'huge'],
    ['MAX_SUBSCRIBERS_PER_ANALYSIS', '0'],
    ['MAX_EVENT_STREAMS', 'many'],
  ])('%s=%s', (name, value) => {
    const env: Record<string, string> = { [name]: value };
    if (name === 'OPENAI_BASE_URL') env.OPENAI_API_KEY = 'sk-a';
    const error = configError(env);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(name);
  });

  it('a REDIS_COMMAND_TIMEOUT_MS out of range stops boot naming it', () => {
    for (const value of ['0', '49', 'soon', '600001']) {
      expect(configError({ REDIS_COMMAND_TIMEOUT_MS: value }).message).toContain('REDIS_COMMAND_TIMEOUT_MS');
    }
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: '250' }).REDIS_COMMAND_TIMEOUT_MS).toBe(250);
  });

  it('names every bad variable at once', () => {
    const { message } = configError({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
  });

  it('refuses ROLE=api or worker with the memory store', () => {
    const { message } = configError({ ROLE: 'worker' });
    expect(message).toContain('ROLE');
    expect(message).toContain('STORE');
    expect(loadConfig({ ROLE: 'worker', STORE: 'redis' }).ROLE).toBe('worker');
  });
});

describe('loadConfig: secrets never appear in error messages', () => {
  it('a STREAM_TOKEN_SECRET that is too short is named, its value is not', () => {
    const secret = 'tiny-s3cr3t';
    const { message } = configError({ STREAM_TOKEN_SECRET: secret });
    expect(message).toContain('STREAM_TOKEN_SECRET');
    expect(message).not.toContain(secret);
  });

  it('a key in the environment is not echoed by an error about another variable', () => {
    const key = 'sk-live-VERY-SECRET-0123456789';
    const { message } = configError({ OPENAI_API_KEY: key, PORT: 'abc', ANTHROPIC_API_KEY: `${key}-2` });
    expect(message).toContain('PORT');
    expect(message).not.toContain(key);
  });

  it('neither API_KEYS nor the secret is echoed when another variable is bad', () => {
    const config = loadConfig({ API_KEYS: 'k1,k2', STREAM_TOKEN_SECRET: 'x'.repeat(32) });
    expect(config.STREAM_TOKEN_SECRET).toBe('x'.repeat(32));
    const secret = 'short-secret';
    const { message } = configError({ API_KEYS: 'a-real-api-key', STREAM_TOKEN_SECRET: secret });
    expect(message).not.toContain('a-real-api-key');
    expect(message).not.toContain(secret);
  });
});
