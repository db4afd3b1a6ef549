/**
 * Per-provider limits: a concurrency gate and, only where configured, a
 * requests-per-minute reservoir.
 *
 * The concurrency gate is a plain counting semaphore: a free slot is taken
 * without any timer. Bottleneck is used only when `rpm` is set (it costs a
 * timer hop, about 5 ms, per job even when idle); its reservoir holds `rpm`
 * tokens and is refilled to `rpm` every 60 s (no `minTime`). A caller first
 * takes a slot, then a token, so calls start no faster than the reservoir
 * allows. Waiting here is never a failure: an aborted waiter leaves the queue
 * with `cancelled`, and the token of a caller that left is given back.
 */
import Bottleneck from 'bottleneck';
import { cancelledError } from '../../providers/errors.js';
import { ModelError } from '../errors.js';
import { Semaphore } from './semaphore.js';

export const RPM_REFRESH_INTERVAL_MS = 60_000;

/**
 * Bottleneck's clustering options, passed through so a Redis-backed reservoir
 * can be shared by every process later (the concurrency gate stays per process).
 */
export interface SharedReservoirOptions {
  /** Limiters with the same id share one reservoir in the datastore. */
  id?: string | undefined;
  datastore?: 'local' | 'redis' | 'ioredis' | undefined;
  connection?: Bottleneck.RedisConnection | Bottleneck.IORedisConnection | undefined;
  clientOptions?: Record<string, unknown> | undefined;
  clearDatastore?: boolean | undefined;
  /** Redis TTL of the limiter's keys, in milliseconds. */
  timeout?: number | undefined;
}

export interface ProviderLimiterOptions {
  /** Calls running at once for this provider. */
  concurrency: number;
  /** Requests per minute; leave out for no rate limit (and no bottleneck). */
  rpm?: number | undefined;
  shared?: SharedReservoirOptions | undefined;
  /** Milliseconds, for `queuedMs`; `performance.now` by default. */
  now?: (() => number) | undefined;
}

export interface ScheduledCallInfo {
  /** Time spent waiting for a slot and a token: never a failure, never part of the call timeout. */
  queuedMs: number;
}

export interface ProviderLimiterStats {
  queued: number;
  running: number;
  concurrency: number;
  rpm: number | undefined;
}

export class ProviderLimiter {
  readonly #slots: Semaphore;
  readonly #bottleneck: Bottleneck | undefined;
  readonly #rpm: number | undefined;
  readonly #now: () => number;
  #waitingForToken = 0;
  #running = 0;
  #stopped = false;

  constructor(options: ProviderLimiterOptions) {
    this.#slots = new Semaphore(options.concurrency);
    this.#now = options.now ?? (() => performance.now());
    const rpm = options.rpm;
    if (rpm !== undefined) {
      if (!Number.isInteger(rpm) || rpm < 1)
        throw new RangeError('ProviderLimiter: rpm must be a positive integer.');
      this.#rpm = rpm;
      this.#bottleneck = new Bottleneck({
        ...sharedOptions(options.shared),
        reservoir: rpm,
        reservoirRefreshAmount: rpm,
        reservoirRefreshInterval: RPM_REFRESH_INTERVAL_MS,
      });
    }
  }

  /** Callers waiting for a slot or a requests-per-minute token (a gauge for metrics). */
  get queued(): number {
    return this.#slots.waiting + this.#waitingForToken;
  }

  /** Calls running now. */
  get running(): number {
    return this.#running;
  }

  /** True when bottleneck is in the path (an rpm limit is configured). */
  get rateLimited(): boolean {
    return this.#bottleneck !== undefined;
  }

  stats(): ProviderLimiterStats {
    return {
      queued: this.queued,
      running: this.#running,
      concurrency: this.#slots.capacity,
      rpm: this.#rpm,
    };
  }

  /**
   * Runs `fn` once a slot (and a token, with rpm) is free. An abort while
   * waiting rejects with `cancelled` and frees the place; once `fn` runs, the
   * signal is its business.
   */
  async schedule<T>(fn: (info: ScheduledCallInfo) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#stopped) throw stoppedError();
    const queuedFrom = this.#now();
    await this.#slots.acquire(signal);
    try {
      if (this.#bottleneck) await this.#takeToken(this.#bottleneck, signal);
      if (signal?.aborted) throw cancelledError();
      this.#running += 1;
      try {
        return await fn({ queuedMs: Math.max(0, this.#now() - queuedFrom) });
      } finally {
        this.#running -= 1;
      }
    } finally {
      this.#slots.release();
    }
  }

  /** Rejects every waiter with `shutdown` and stops bottleneck. Running calls finish. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#slots.rejectWaiting(stoppedError());
    const bottleneck = this.#bottleneck;
    if (!bottleneck) return;
    await bottleneck.stop({ dropWaitingJobs: true }).catch(() => undefined);
    await bottleneck.disconnect(false).catch(() => undefined);
  }

  #takeToken(bottleneck: Bottleneck, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#waitingForToken -= 1;
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (settle()) reject(cancelledError());
      };
      this.#waitingForToken += 1;
      signal?.addEventListener('abort', onAbort, { once: true });
      bottleneck
        .schedule(async () => {
          // The caller left while queued: give its token back.
          if (settled) await bottleneck.incrementReservoir(1);
          else if (settle()) resolve();
        })
        .catch(() => {
          if (settle()) reject(this.#stopped ? stoppedError() : limiterError());
        });
    });
  }
}

function sharedOptions(shared: SharedReservoirOptions | undefined): Bottleneck.ConstructorOptions {
  if (!shared) return {};
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(shared)) if (value !== undefined) options[key] = value;
  return options;
}

function stoppedError(): ModelError {
  return new ModelError('shutdown', 'The service is shutting down.');
}

function limiterError(): ModelError {
  // The cause stays out, like an upstream's: a Redis error can name the datastore's address.
  return new ModelError('internal', 'The rate limiter failed.');
}
