/**
 * The load scenarios' service as several processes (`--store=redis
 * --workers=N`): one API process (`ROLE=api`) and N worker processes
 * (`ROLE=worker`) on the local Redis, under a key prefix of their own that is
 * deleted afterwards. CPU is read from /proc for every process of the
 * deployment; Redis's own CPU is read apart (it is shared infrastructure, not
 * Chorus).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { processCpuMs, type Service, startService } from './processes.js';

export interface RedisDeploymentOptions {
  workers: number;
  redisUrl: string;
  /** Unique per scenario run. */
  prefix: string;
  cpuProfileDir: string | undefined;
}

export interface Deployment {
  /** Where clients send requests (the API process). */
  url: string;
  api: Service;
  workers: Service[];
  /** Process name → pid, for CPU accounting (`api`, `worker1`, …; `service` for one process). */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

/** One API process and `workers` worker processes on Redis (the memory shape is the scenario's own service). */
export async function startRedisDeployment(
  env: Record<string, string>,
  options: RedisDeploymentOptions,
): Promise<Deployment> {
  const profileDir = (name: string) =>
    options.cpuProfileDir ? join(options.cpuProfileDir, name) : undefined;
  const shared = { ...env, STORE: 'redis', REDIS_URL: options.redisUrl, REDIS_PREFIX: options.prefix };
  const started: Service[] = [];
  try {
    const api = await startService({ ...shared, ROLE: 'api' }, { cpuProfileDir: profileDir('api') });
    started.push(api);
    const workers = await Promise.all(
      Array.from({ length: options.workers }, (_, index) =>
        startService({ ...shared, ROLE: 'worker' }, { cpuProfileDir: profileDir(`worker${index + 1}`) }),
      ),
    );
    started.push(...workers);
    const pids: Record<string, number> = { api: api.pid };
    workers.forEach((worker, index) => {
      pids[`worker${index + 1}`] = worker.pid;
    });
    return {
      url: api.url,
      api,
      workers,
      pids,
      stop: async () => {
        await Promise.all(started.map((service) => service.stop()));
        await deletePrefix(options.redisUrl, options.prefix);
      },
    };
  } catch (error) {
    await Promise.all(started.map((service) => service.stop()));
    await deletePrefix(options.redisUrl, options.prefix).catch(() => undefined);
    throw error;
  }
}

/** CPU milliseconds used so far by each process, and their sum. */
export function deploymentCpuMs(pids: Record<string, number>): {
  total: number;
  byProcess: Record<string, number>;
} {
  const byProcess: Record<string, number> = {};
  let total = 0;
  for (const [name, pid] of Object.entries(pids)) {
    byProcess[name] = processCpuMs(pid);
    total += byProcess[name];
  }
  return { total, byProcess };
}

/** The local redis-server's pid, when one runs (its CPU is reported apart). */
export function redisServerPid(): number | undefined {
  try {
    const pid = Number(execFileSync('pidof', ['redis-server'], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes every key under the prefix (SCAN + UNLINK), so repeated runs do not fill Redis. */
async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
