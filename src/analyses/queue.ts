import type { FastifyBaseLogger as Logger } from 'fastify';
import { type AnalysisExecutor, SHUTDOWN } from './executor.js';
import { JobRunner } from './runner.js';
import type { AnalysisStore } from './store/store.js';

/** Where accepted analyses wait and run: in this process, or on BullMQ workers. */
export interface JobQueue {
  /** Whether one more analysis fits (running slots or queue room). */
  hasRoom(): Promise<boolean>;
  /** False when the queue is full. */
  enqueue(id: string): Promise<boolean>;
  /** Removes a waiting analysis or aborts a running one, wherever it runs. */
  cancel(id: string): Promise<void>;
  /** Analyses waiting and running in this process, for metrics. */
  depth(): { queued: number; running: number };
  /** Stops taking work; what runs gets `graceMs` to end. */
  shutdown(graceMs: number): Promise<void>;
}

/** The bounded in-process queue (STORE=memory, and ROLE=all with one process). */
export class LocalQueue implements JobQueue {
  readonly runner: JobRunner;

  constructor(
    private readonly executor: AnalysisExecutor,
    private readonly store: AnalysisStore,
    concurrency: number,
    queueMax: number,
    logger: Logger,
  ) {
    this.runner = new JobRunner(
      (id, signal) => executor.run(id, signal),
      concurrency,
      queueMax,
      (id, error) => logger.error({ err: error, analysisId: id }, 'analysis runner failed'),
    );
  }

  async hasRoom(): Promise<boolean> {
    return this.runner.hasRoom();
  }

  async enqueue(id: string): Promise<boolean> {
    return this.runner.enqueue(id);
  }

  async cancel(id: string): Promise<void> {
    if (!this.runner.dequeue(id)) this.runner.abort(id, 'cancelled');
  }

  depth() {
    return { queued: this.runner.queued, running: this.runner.active };
  }

  /** Fails what never started with `shutdown`, lets running analyses end, then aborts the rest. */
  async shutdown(graceMs: number): Promise<void> {
    for (const id of this.runner.stopAccepting()) {
      const stored = await this.store.get(id);
      if (!stored) continue;
      await this.executor.finish(stored.record, {
        status: 'failed',
        error: {
          code: 'shutdown',
          message: 'The service shut down before the analysis started: submit it again.',
        },
      });
    }
    if (await this.runner.drain(graceMs)) return;
    for (const id of this.runner.runningIds()) this.runner.abort(id, SHUTDOWN);
    await this.runner.drain(5_000);
  }
}
