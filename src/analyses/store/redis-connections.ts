import type { FastifyBaseLogger as Logger } from 'fastify';
import { Redis } from 'ioredis';
import type { SharedReservoirOptions } from '../../models/resilience/limiter.js';

/**
 * The Redis connections of one process: commands, one subscriber (for every
 * event-stream reader and cancellations), and BullMQ's blocking connections.
 * A lost connection is logged and retried by ioredis, never a crash.
 */
export class RedisConnections {
  readonly commands: Redis;
  readonly subscriber: Redis;
  private readonly all: Redis[] = [];
  private lastError = 0;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    /** REDIS_PREFIX: deployments sharing one Redis keep their rate-limit budgets apart too. */
    private readonly prefix = 'chorus',
  ) {
    this.commands = this.open('commands', { maxRetriesPerRequest: 3 });
    this.subscriber = this.open('subscriber', { maxRetriesPerRequest: null });
  }

  private open(role: string, options: { maxRetriesPerRequest: number | null }): Redis {
    const connection = new Redis(this.url, {
      ...options,
      retryStrategy: (times) => Math.min(times * 200, 5_000),
      connectionName: `chorus-${role}`,
    });
    connection.on('error', (error: Error) => {
      // One line per second at most while Redis is unreachable.
      if (Date.now() - this.lastError < 1_000) return;
      this.lastError = Date.now();
      this.logger.error({ err: { message: error.message }, role }, 'redis connection error: retrying');
    });
    this.all.push(connection);
    return connection;
  }

  /** A connection for BullMQ (blocking commands need maxRetriesPerRequest: null). */
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
    await Promise.all(this.all.map((connection) => connection.quit().catch(() => connection.disconnect())));
  }
}
