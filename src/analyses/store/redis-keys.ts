/**
 * The Redis store's key names. An analysis's own keys share the hash tag
 * `{id}`, so its scripts touch one slot.
 */
export class RedisKeys {
  constructor(
    readonly prefix: string,
    /** BullMQ's key of a job's lock, checked on every write by a worker. */
    private readonly jobLock: (id: string) => string,
  ) {}

  /** The analysis hash: record, job, owner, event counter, closed. */
  analysis(id: string): string {
    return this.tagged('a', id);
  }

  /** The event log, a Stream with ids `0-<n>`. */
  events(id: string): string {
    return this.tagged('e', id);
  }

  /** The owner's index for listing: id by creation sequence. */
  owner(owner: string): string {
    return `${this.prefix}:owner:${owner}`;
  }

  get sequence(): string {
    return `${this.prefix}:sequence`;
  }

  /** The pub/sub channel of an analysis's live events. */
  channel(id: string): string {
    return `${this.prefix}:events:${id}`;
  }

  /** The retention index, each finished analysis's size, and their total. */
  get finished(): [index: string, sizes: string, bytes: string] {
    return [`${this.prefix}:finished`, `${this.prefix}:finished:sizes`, `${this.prefix}:finished:bytes`];
  }

  /**
   * The lock a write is checked against and the token it must hold: the job's
   * lock for a worker, else an unused key and no token (no check).
   */
  writer(id: string, lockToken: string | undefined): [lockKey: string, token: string] {
    return lockToken ? [this.jobLock(id), lockToken] : [this.tagged('lock', id), ''];
  }

  private tagged(kind: string, id: string): string {
    return `${this.prefix}:{${id}}:${kind}`;
  }
}
