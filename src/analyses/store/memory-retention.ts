import { jsonBytes } from '../../util/json-bytes.js';
import type { StoreRetention } from './composed-store.js';
import type { MemoryIdempotencyKeys } from './memory-idempotency.js';
import type { MemoryEntry, MemoryRecords } from './memory-records.js';
import type { RetentionLimits } from './store.js';

/** What one sweep did: a sweep's work is what expired, plus one look at what did not. */
export interface SweepResult {
  analysesRemoved: number;
  idempotencyKeysRemoved: number;
  /** Idempotency keys looked at (removed ones and the first still valid). */
  idempotencyKeysExamined: number;
}

export interface MemoryRetentionOptions extends RetentionLimits {
  /** How often expired analyses are swept (the sweep also runs whenever one finishes). */
  sweepIntervalMs?: number;
}

/**
 * The memory store's retention: finished analyses in the order they
 * finished, their logs packed, dropped past their age or the oldest past the
 * count or byte limit; idempotency keys past their expiry.
 */
export class MemoryRetention implements StoreRetention {
  /** Finished analyses in the order they finished: the retention queue. */
  private readonly retained: Array<MemoryEntry | undefined> = [];
  private head = 0;
  /** Bytes of the retained analyses (see bytesHeld). */
  private bytes = 0;
  /** Finished logs waiting to be packed (see packSoon). */
  private readonly toPack: MemoryEntry[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: MemoryRetentionOptions,
    private readonly records: MemoryRecords,
    private readonly idempotency: MemoryIdempotencyKeys,
    private readonly now: () => number,
  ) {
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.timer.unref();
  }

  retain(id: string): void {
    const entry = this.records.entry(id);
    if (!entry || entry.retainedAt !== undefined) return;
    entry.retainedAt = this.now();
    if (entry.log.packable) this.packSoon(entry);
    this.retained.push(entry);
    this.sweep();
  }

  async bytesHeld(): Promise<number> {
    return this.bytes;
  }

  /** An entry removed from the store no longer counts. */
  forget(entry: MemoryEntry): void {
    this.bytes -= entry.bytes;
    entry.bytes = 0;
  }

  /**
   * Drops finished analyses past their age, and the oldest past the count or
   * byte limit; then idempotency keys past their expiry.
   */
  sweep(): SweepResult {
    const now = this.now();
    const analysesRemoved = this.sweepRetained(now);
    const keys = this.idempotency.sweep(now);
    return { analysesRemoved, idempotencyKeysRemoved: keys.removed, idempotencyKeysExamined: keys.examined };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Packs a finished log after the current turn of the event loop, so the
   * answer to a client waiting for the analysis goes out first; reads in
   * between serve the unpacked events.
   */
  private packSoon(entry: MemoryEntry): void {
    this.toPack.push(entry);
    if (this.toPack.length === 1) setImmediate(() => this.packPending()).unref();
  }

  private packPending(): void {
    for (const entry of this.toPack.splice(0)) {
      if (!this.records.holds(entry)) continue; // expired or deleted meanwhile
      // Counted once packed: what it will hold while retained.
      entry.bytes = jsonBytes(entry.record) + jsonBytes(entry.job) + entry.log.pack();
      this.bytes += entry.bytes;
    }
    this.sweepRetained(this.now());
  }

  private sweepRetained(now: number): number {
    const oldestAllowed = now - this.options.ttlSeconds * 1000;
    const maxBytes = this.options.maxRetainedBytes ?? Number.POSITIVE_INFINITY;
    let removed = 0;
    while (this.head < this.retained.length) {
      const entry = this.retained[this.head]!;
      const live = this.retained.length - this.head;
      const gone = !this.records.holds(entry);
      if (
        !gone &&
        live <= this.options.maxRetained &&
        this.bytes <= maxBytes &&
        (entry.retainedAt ?? now) > oldestAllowed
      )
        break;
      // Clear the slot so an expired analysis is collectable at once, not at the next compaction.
      this.retained[this.head] = undefined;
      this.head++;
      if (!gone) {
        this.records.remove(entry);
        removed++;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.retained.length) {
      this.retained.splice(0, this.head);
      this.head = 0;
    }
    return removed;
  }
}
