import type { AnalysisEventPayload, StoredEvent } from '../events.js';
import { ComposedStore } from './composed-store.js';
import { MemoryIdempotencyKeys } from './memory-idempotency.js';
import { MemoryEventLog } from './memory-log.js';
import { MemoryRecords } from './memory-records.js';
import { MemoryRetention, type MemoryRetentionOptions, type SweepResult } from './memory-retention.js';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS, type WriteOptions } from './store.js';

export type { SweepResult } from './memory-retention.js';

export interface MemoryStoreOptions extends MemoryRetentionOptions {
  now?: () => number;
}

interface MemoryParts {
  records: MemoryRecords;
  log: MemoryEventLog;
  retention: MemoryRetention;
  idempotency: MemoryIdempotencyKeys;
}

/**
 * Analyses in this process's memory, the default store: records and their
 * listing (MemoryRecords), each analysis's event log and subscribers
 * (MemoryEventLog), retention and packing of finished ones (MemoryRetention)
 * and idempotency keys (MemoryIdempotencyKeys).
 */
export class MemoryStore extends ComposedStore<MemoryParts> {
  constructor(options: MemoryStoreOptions) {
    const now = options.now ?? Date.now;
    const idempotency = new MemoryIdempotencyKeys(
      (options.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS) * 1000,
      now,
    );
    const records = new MemoryRecords((entry) => {
      retention.forget(entry);
      entry.log.gone();
    });
    const retention = new MemoryRetention(options, records, idempotency, now);
    super({ records, log: new MemoryEventLog((id) => records.entry(id), now), retention, idempotency });
  }

  /** Synchronous append: the memory store needs no round trip. */
  appendNow(id: string, event: AnalysisEventPayload, options: WriteOptions = {}): StoredEvent | undefined {
    return this.parts.log.appendNow(id, event, options);
  }

  /** Runs retention now (it also runs on a timer and whenever an analysis finishes). */
  sweep(): SweepResult {
    return this.parts.retention.sweep();
  }

  /** Analyses held, for tests and metrics. */
  get size(): number {
    return this.parts.records.size;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.parts.retention.stop();
  }
}
