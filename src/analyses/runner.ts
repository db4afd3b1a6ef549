/**
 * The bounded in-process runner: at most `concurrency` analyses run at once,
 * at most `queueMax` wait. Jobs are started in the order they were accepted.
 */
export type JobExecutor = (id: string, signal: AbortSignal) => Promise<void>;

export class JobRunner {
  private readonly waiting: string[] = [];
  private waitingHead = 0;
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new Set<Promise<void>>();
  private accepting = true;

  constructor(
    private readonly execute: JobExecutor,
    private readonly concurrency: number,
    private readonly queueMax: number,
    private readonly onError: (id: string, error: unknown) => void,
  ) {}

  get queued(): number {
    return this.waiting.length - this.waitingHead;
  }

  get active(): number {
    return this.running.size;
  }

  /** Whether one more job fits (running slots or queue room). */
  hasRoom(): boolean {
    return this.accepting && (this.running.size < this.concurrency || this.queued < this.queueMax);
  }

  enqueue(id: string): boolean {
    if (!this.hasRoom()) return false;
    this.waiting.push(id);
    this.pump();
    return true;
  }

  /** Removes a job that has not started; true when it was waiting. */
  dequeue(id: string): boolean {
    const index = this.waiting.indexOf(id, this.waitingHead);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** Aborts a running job; true when it was running. */
  abort(id: string, reason?: unknown): boolean {
    const controller = this.running.get(id);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /** Stops starting jobs; returns the ids still waiting (never started). */
  stopAccepting(): string[] {
    this.accepting = false;
    const left = this.waiting.slice(this.waitingHead);
    this.waiting.length = 0;
    this.waitingHead = 0;
    return left;
  }

  /** Resolves when every running job has ended, or after `ms`; true if they all ended. */
  async drain(ms: number): Promise<boolean> {
    if (this.finished.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const all = (async () => {
      while (this.finished.size > 0) await Promise.allSettled([...this.finished]);
      return true as const;
    })();
    const ended = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return ended;
  }

  private pump(): void {
    while (this.accepting && this.running.size < this.concurrency && this.waitingHead < this.waiting.length) {
      const id = this.waiting[this.waitingHead++]!;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingHead);
        this.waitingHead = 0;
      }
      const controller = new AbortController();
      this.running.set(id, controller);
      const done = this.execute(id, controller.signal)
        .catch((error: unknown) => this.onError(id, error))
        .finally(() => {
          this.running.delete(id);
          this.finished.delete(done);
          this.pump();
        });
      this.finished.add(done);
    }
  }
}
