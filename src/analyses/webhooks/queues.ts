import { Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Redis } from 'ioredis';
import type { WebhookDeliverer } from './deliverer.js';
import { RETRY_DELAYS_MS, retryDelay } from './schedule.js';

/** Where ended analyses wait for their webhook: in this process, or in BullMQ. */
export interface WebhookQueue {
  /** Schedules the first attempt; never waits for the delivery itself. */
  enqueue(analysisId: string): Promise<void>;
  close(): Promise<void>;
}

/** A timer the local queue sets for a retry (tests pass one they advance by hand). */
export type SetTimer = (run: () => void, ms: number) => { cancel(): void };

const realTimer: SetTimer = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};

interface Attempt {
  id: string;
  attempt: number;
}

/**
 * STORE=memory: at most `concurrency` deliveries at once, retries on timers.
 * Pending retries live in this process only (as every memory-mode analysis does).
 */
export class LocalWebhookQueue implements WebhookQueue {
  readonly #waiting: Attempt[] = [];
  readonly #timers = new Set<{ cancel(): void }>();
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(
    private readonly deliverer: WebhookDeliverer,
    private readonly options: {
      concurrency: number;
      logger: Logger;
      retryDelaysMs?: readonly number[] | undefined;
      setTimer?: SetTimer | undefined;
    },
  ) {}

  async enqueue(id: string): Promise<void> {
    this.#push({ id, attempt: 1 });
  }

  #push(attempt: Attempt): void {
    if (this.#closed) return;
    this.#waiting.push(attempt);
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight.size < this.options.concurrency && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      const run = this.deliverer
        .attempt(next.id, next.attempt)
        .catch((error: unknown) => {
          this.options.logger.error({ err: error, analysisId: next.id }, 'webhook delivery attempt failed');
          return 'retry' as const;
        })
        .then((outcome) => {
          if (outcome === 'retry') this.#retry(next);
        })
        .finally(() => {
          this.#inFlight.delete(run);
          this.#pump();
        });
      this.#inFlight.add(run);
    }
  }

  #retry(failed: Attempt): void {
    const delay = retryDelay(failed.attempt, this.options.retryDelaysMs ?? RETRY_DELAYS_MS);
    if (delay === undefined || this.#closed) return;
    const timer = (this.options.setTimer ?? realTimer)(() => {
      this.#timers.delete(timer);
      this.#push({ id: failed.id, attempt: failed.attempt + 1 });
    }, delay);
    this.#timers.add(timer);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#waiting.length = 0;
    await Promise.allSettled([...this.#inFlight]);
  }
}

export const WEBHOOK_QUEUE_NAME = 'webhooks';

/**
 * STORE=redis: one BullMQ job per ended analysis (its id makes a second
 * enqueue a no-op), retried by BullMQ as delayed jobs with the schedule's
 * waits, so any worker can deliver and a restart loses none.
 */
export class RedisWebhookQueue implements WebhookQueue {
  private readonly queue: Queue;
  private readonly worker: Worker | undefined;

  constructor(
    deliverer: WebhookDeliverer,
    options: {
      prefix: string;
      producer: Redis;
      connection: () => Redis;
      /** Delivers in this process (ROLE=worker or all). */
      work: boolean;
      concurrency: number;
      onConnectionError: (role: string, error: Error) => void;
      retryDelaysMs?: readonly number[] | undefined;
    },
  ) {
    const delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
    const prefix = `${options.prefix}:bull`;
    this.queue = new Queue(WEBHOOK_QUEUE_NAME, {
      connection: options.producer,
      prefix,
      defaultJobOptions: {
        attempts: delays.length + 1,
        backoff: { type: 'webhook' },
        removeOnComplete: true,
        removeOnFail: { count: 1000 },
      },
    });
    this.queue.on('error', (error) => options.onConnectionError('webhook queue', error));
    if (!options.work) return;
    this.worker = new Worker(
      WEBHOOK_QUEUE_NAME,
      async (job) => {
        const outcome = await deliverer.attempt(job.data.id as string, job.attemptsMade + 1);
        if (outcome === 'retry') throw new Error('The receiver did not take the webhook.');
      },
      {
        connection: options.connection(),
        prefix,
        concurrency: options.concurrency,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, delays) ?? -1 },
      },
    );
    this.worker.on('error', (error) => options.onConnectionError('webhook worker', error));
  }

  async enqueue(id: string): Promise<void> {
    await this.queue.add('webhook', { id }, { jobId: `webhook-${id}` });
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
