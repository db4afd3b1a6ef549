import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { AppOptions } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import type { ModelConfig, ProviderConfig } from '../../src/config/types.js';
import { buildServer } from '../../src/server.js';

export interface TestApp {
  app: FastifyInstance;
  url: string;
  config: Config;
  close(): Promise<void>;
}

export function simModel(id: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return { id, weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [], latencyMs: 0, ...overrides };
}

/** A sim provider for tests: fast by default, latency and failures per model on request. */
export function simProvider(models: ModelConfig[], name = 'sim'): ProviderConfig {
  return { name, kind: 'sim', timeoutMs: 30_000, source: 'test', models };
}

export const FAST_SIM = simProvider([
  simModel('alpha', { weight: 3, latencyMs: 8 }),
  simModel('beta', { weight: 2, latencyMs: 8 }),
  simModel('gamma', { weight: 1, latencyMs: 8 }),
]);

export interface StartOptions extends Partial<Omit<AppOptions, 'config'>> {
  /** A pino instance (a silent one by default, or one writing to a buffer). */
  logger?: pino.Logger;
  env?: Record<string, string>;
  providers?: ProviderConfig[];
}

/** Builds the app as the server does and listens on a real socket (127.0.0.1, a free port). */
export async function startApp(options: StartOptions = {}): Promise<TestApp> {
  // Each Redis-backed app gets its own key prefix, so test files never share a queue.
  const prefix = `test-${randomBytes(6).toString('hex')}`;
  const base = loadConfig({
    LOG_LEVEL: 'silent',
    SHUTDOWN_GRACE_MS: '0',
    REDIS_PREFIX: prefix,
    ...options.env,
  });
  const config: Config = { ...base, providers: options.providers ?? [FAST_SIM] };
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const app = await buildServer({ ...options, config, logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    config,
    close: async () => {
      await app.close();
      if (config.STORE === 'redis') await deleteKeys(config.REDIS_URL, `${config.REDIS_PREFIX}:*`);
    },
  };
}

/** Removes a test's keys from Redis. */
export async function deleteKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The stores the core scenarios run against. */
export const STORES = [
  { name: 'memory', env: { STORE: 'memory' } },
  { name: 'redis', env: { STORE: 'redis' } },
] as const;

export function storeEnv(name: string): Record<string, string> {
  return { STORE: name };
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
