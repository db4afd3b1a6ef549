import type { FastifyBaseLogger as Logger } from 'fastify';
import { Redis, type RedisOptions } from 'ioredis';
import type { SharedReservoirOptions } from '../../models/resilience/limiter.js';

/**
 * The Redis connections of one process: commands, one subscriber (for every
 * event-stream reader and cancellations), BullMQ's producer and its blocking
 * connections. A lost connection is logged and retried by ioredis, never a
 * crash. Commands and the producer fail fast while Redis is away (no offline
 * queue, no retry of a command that may have run, a timeout per command), so
 * a request answers `503` at once instead of waiting for Redis.
 */
export class RedisConnections {
  readonly commands: Redis;
  readonly subscriber: Redis;
  /** BullMQ's producer (adds jobs, counts them): fails fast like the commands. */
  readonly producer: Redis;
  private readonly all: Redis[] = [];
  private lastError = 0;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    /** REDIS_PREFIX: deployments sharing one Redis keep their rate-limit budgets apart too. */
    private readonly prefix = 'chorus',
    /** REDIS_COMMAND_TIMEOUT_MS: a command unanswered this long fails (Redis paused or unreachable). */
    private readonly commandTimeoutMs = 2_000,
  ) {
    this.commands = this.open('commands', this.failFast());
    this.producer = this.open('producer', this.failFast());
    this.subscriber = this.open('subscriber', { maxRetriesPerRequest: null });
  }

  private failFast(): RedisOptions {
    return { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: this.commandTimeoutMs };
  }

  /**
   * Resolves once the fail-fast connections are ready, or at their first
   * failure: the service boots while Redis is away (and `/readyz` says so
   * until it is back), and its first requests do not fail for a connection
   * still being made.
   */
  async ready(): Promise<void> {
    await Promise.all([this.commands, this.producer].map((connection) => connected(connection)));
  }

  /**
   * Logs a lost connection (of these connections, or BullMQ's queue and
   * worker): one line per second at most while Redis is unreachable.
   */
  readonly connectionError = (role: string, error: Error): void => {
    if (Date.now() - this.lastError < 1_000) return;
    this.lastError = Date.now();
    this.logger.error({ err: { message: error.message }, role }, 'redis connection error: retrying');
  };

  private open(role: string, options: RedisOptions): Redis {
    const connection = new Redis(this.url, {
      ...options,
      retryStrategy: (times) => Math.min(times * 200, 5_000),
      connectionName: `chorus-${role}`,
    });
    connection.on('error', (error: Error) => this.connectionError(role, error));
    this.all.push(connection);
    return connection;
  }

  /** A connection for BullMQ's worker (blocking commands need maxRetriesPerRequest: null). */
  blocking(): Redis {
    return this.open('bullmq', { maxRetriesPerRequest: null });
  }

  /** Bottleneck's clustering on the same Redis: one requests-per-minute budget for every worker. */
  reservoir(provider: string): SharedReservoirOptions {
    const url = new URL(this.url);
    return {
      id: `${this.prefix}:rpm:${provider}`,
      datastore: 'ioredis',
      clientOptions: {
        host: url.hostname,
        port: Number(url.port || 6379),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
      },
      clearDatastore: false,
      // An idle budget is full again after a minute anyway; an hour of inactivity drops its keys.
      timeout: 3_600_000,
    };
  }

  async close(): Promise<void> {
    // QUIT waits for Redis (forever while it is away, behind queued commands): only a live connection says goodbye.
    await Promise.all(
      this.all.map((connection) =>
        connection.status === 'ready'
          ? connection.quit().catch(() => connection.disconnect())
          : connection.disconnect(),
      ),
    );
  }
}

/** Resolves when the connection is ready, or as soon as it fails. */
function connected(connection: Redis): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      connection.off('ready', done).off('error', done).off('end', done);
      resolve();
    };
    connection.on('ready', done).on('error', done).on('end', done);
  });
}
