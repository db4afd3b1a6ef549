import { DelayedError, type Job, Queue, WaitingError, Worker } from 'bullmq';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Redis } from 'ioredis';
import { type AnalysisExecutor, HANDOFF } from './executor.js';
import type { JobQueue } from './queue.js';
import type { AnalysisStore } from './store/store.js';
import { isStoreUnavailable, StoreUnavailable } from './store/store-errors.js';

/** How long an analysis that lost the store waits before a worker resumes it. */
const STORE_OUTAGE_RESUME_DELAY_MS = 1_000;

export const QUEUE_NAME = 'analyses';

/** BullMQ's keys live under `<prefix>:bull`, beside the store's keys. */
function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

/** BullMQ's key of a job's lock; its value is the token of the worker that holds the job. */
export function bullLockKey(prefix: string, id: string): string {
  return `${bullPrefix(prefix)}:${QUEUE_NAME}:${id}:lock`;
}

export interface RedisQueueOptions {
  /** Key prefix shared with the store (one Redis can hold several deployments). */
  prefix: string;
  /** Commands (shared with the store). */
  redis: Redis;
  /** Connection factory for BullMQ's worker (blocking) connections. */
  connection: () => Redis;
  /** BullMQ's producer connection (fails fast while Redis is away). */
  producer: Redis;
  /** Logs a lost connection of the queue or the worker (throttled, shared with the store's connections). */
  onConnectionError?: (role: string, error: Error) => void;
  /** A subscriber connection for cancellations (shared with the store). */
  subscriber: Redis;
  executor: AnalysisExecutor;
  store: AnalysisStore;
  logger: Logger;
  queueMax: number;
  /** Runs analyses in this process (ROLE=worker or all). */
  work: boolean;
  concurrency: number;
  /**
   * How long a worker's lock lasts without renewal, and how often stalled jobs
   * are looked for: a dead worker's analyses move on within about their sum.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Stalls before an analysis fails with `worker_lost`. */
  maxStalledCount?: number;
}

/**
 * The queue on BullMQ (the analysis id is the job id) and, where this process
 * works, a BullMQ worker that runs analyses with the executor. A cancel
 * accepted by any instance reaches the worker that runs the analysis through
 * a Redis channel; a worker that shuts down hands its analyses back.
 */
export class RedisQueue implements JobQueue {
  private readonly queue: Queue;
  private readonly worker: Worker | undefined;
  private readonly running = new Map<string, AbortController>();
  private waiting = 0;
  private readonly cancelChannel: string;

  constructor(private readonly options: RedisQueueOptions) {
    this.cancelChannel = `${options.prefix}:cancel`;
    this.queue = new Queue(QUEUE_NAME, {
      connection: options.producer,
      prefix: bullPrefix(options.prefix),
      defaultJobOptions: { removeOnComplete: true, removeOnFail: { count: 1000 } },
    });
    const connectionError =
      options.onConnectionError ??
      ((role: string, error: Error) => options.logger.error({ err: error, role }, 'redis connection error'));
    this.queue.on('error', (error) => connectionError('queue', error));
    if (options.work) {
      this.worker = new Worker(QUEUE_NAME, (job, token, signal) => this.process(job, token, signal), {
        connection: options.connection(),
        prefix: bullPrefix(options.prefix),
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs ?? 10_000,
        stalledInterval: options.stalledIntervalMs ?? 5_000,
        maxStalledCount: options.maxStalledCount ?? 2,
      });
      this.worker.on('error', (error) => connectionError('worker', error));
      this.worker.on('failed', (job, error) => void this.onFailed(job, error));
      options.subscriber.on('message', (channel: string, id: string) => {
        if (channel === this.cancelChannel) this.running.get(id)?.abort('cancelled');
      });
      void options.subscriber.subscribe(this.cancelChannel);
    }
  }

  private async process(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    const id = job.id!;
    const controller = new AbortController();
    const forward = () => controller.abort(signal?.reason ?? 'cancelled');
    signal?.addEventListener('abort', forward, { once: true });
    this.running.set(id, controller);
    try {
      await this.options.executor.run(id, controller.signal, { lockToken: token });
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      this.options.logger.warn(
        { analysisId: id, err: { message: (error as Error).message } },
        'the store stopped answering during the analysis: it resumes from its last completed stage once Redis is back',
      );
      // The store went away mid-run: the analysis resumes from its last completed stage
      // shortly. If Redis cannot even take the job back, its lock expires and a worker
      // resumes it as stalled; failing the job here would leave its record running forever.
      await job.moveToDelayed(Date.now() + STORE_OUTAGE_RESUME_DELAY_MS, token).catch(() => {});
      throw new DelayedError();
    } finally {
      this.running.delete(id);
      signal?.removeEventListener('abort', forward);
    }
    if (controller.signal.reason === HANDOFF) {
      // Back to the queue for another worker; it resumes from the last completed stage.
      await job.moveToWait(token);
      throw new WaitingError();
    }
  }

  /** A job BullMQ gave up on (stalled too often: its workers died) fails with `worker_lost`. */
  private async onFailed(job: Job | undefined, error: Error): Promise<void> {
    if (!job?.id || !/stalled/i.test(error.message)) return;
    const stored = await this.options.store.get(job.id);
    if (!stored) return;
    await this.options.executor.finish(stored.record, {
      status: 'failed',
      error: {
        code: 'worker_lost',
        message: 'The workers running this analysis stopped too many times; submit it again.',
      },
    });
  }

  /**
   * BullMQ waits for a connection that never was ready (Redis down since boot)
   * instead of failing: a request would hang. Refuse at once instead.
   */
  private connected(): void {
    if (this.options.producer.status !== 'ready') {
      throw new StoreUnavailable('The queue is not connected to Redis.');
    }
  }

  async hasRoom(): Promise<boolean> {
    this.connected();
    const counts = await this.queue.getJobCounts('wait', 'prioritized', 'delayed');
    this.waiting = (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    return this.waiting < this.options.queueMax;
  }

  async enqueue(id: string): Promise<boolean> {
    this.connected();
    await this.queue.add('analysis', { id }, { jobId: id });
    return true;
  }

  async cancel(id: string): Promise<void> {
    // First stop the worker running it (its calls are aborted), then drop the job if it still waits.
    this.connected();
    await this.options.redis.publish(this.cancelChannel, id);
    const job = await this.queue.getJob(id);
    if (job && (await job.isWaiting())) await job.remove().catch(() => {});
  }

  depth() {
    return { queued: this.waiting, running: this.running.size };
  }

  /** Stops taking jobs and hands running analyses back to the queue; never fails them. */
  async shutdown(): Promise<void> {
    if (this.worker) {
      // Take no new job (nor a handed-back one), hand the running ones back, then close.
      await this.worker.pause(true);
      for (const controller of this.running.values()) controller.abort(HANDOFF);
      // Without Redis nothing can be handed back (the locks expire and another worker
      // resumes those analyses as stalled), and a graceful close would wait for Redis.
      await this.worker.close(this.options.producer.status !== 'ready');
    }
    await this.queue.close();
  }
}
