/**
 * A plain counting semaphore with a FIFO wait queue.
 *
 * A free slot is taken synchronously (the returned promise is already
 * resolved: no timer, no hop through the event loop). A released slot goes
 * straight to the oldest waiter. An aborted waiter leaves the queue and its
 * promise rejects with `cancelled`.
 */
import { cancelledError } from '../../providers/errors.js';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

export class Semaphore {
  readonly #capacity: number;
  #inUse = 0;
  /** A Set keeps insertion order (FIFO) and removes an aborted waiter in O(1). */
  readonly #waiters = new Set<Waiter>();

  constructor(capacity: number) {
    if (!(capacity >= 1) || (!Number.isInteger(capacity) && capacity !== Number.POSITIVE_INFINITY)) {
      throw new RangeError('Semaphore: capacity must be a positive integer (or Infinity).');
    }
    this.#capacity = capacity;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Slots taken right now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Takes a slot now if one is free and nobody waits ahead; never waits. */
  tryAcquire(): boolean {
    if (this.#inUse >= this.#capacity || this.#waiters.size > 0) return false;
    this.#inUse += 1;
    return true;
  }

  /** Resolves when a slot is held; call `release()` exactly once afterwards. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(cancelledError());
      };
      const waiter: Waiter = {
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Gives a slot back: to the oldest waiter if there is one. */
  release(): void {
    if (this.#inUse <= 0) throw new Error('Semaphore: release() without a matching acquire().');
    const next = this.#waiters.values().next();
    if (next.done) {
      this.#inUse -= 1;
      return;
    }
    // The slot passes straight on; `inUse` stays the same.
    this.#waiters.delete(next.value);
    next.value.detach();
    next.value.resolve();
  }

  /** Rejects every waiter (shutdown). Held slots are left to their holders. */
  rejectWaiting(error: unknown): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) {
      waiter.detach();
      waiter.reject(error);
    }
  }
}
