import type { AnalysisEventPayload, StoredEvent } from '../events.js';
import type { AnalysisJob } from '../job.js';
import type { AnalysisRecord } from '../record.js';
import type {
  AnalysisStore,
  EventListener,
  HistoryOptions,
  HistoryPiece,
  IdempotencyReservation,
  ListPage,
  ListQuery,
  LogHead,
  StoredAnalysis,
  WriteOptions,
} from './store.js';

/** Records and their listing. */
export type StoreRecords = Pick<AnalysisStore, 'insert' | 'get' | 'save' | 'list' | 'delete'>;
/** The event log of each analysis and its live subscribers. */
export type StoreLog = Pick<AnalysisStore, 'append' | 'readEvents' | 'readHistory' | 'logHead' | 'subscribe'>;
/** Retention of finished analyses by age, count and bytes. */
export type StoreRetention = Pick<AnalysisStore, 'retain' | 'bytesHeld'>;

/** Idempotency keys, synchronous (memory) or not (Redis). */
export interface StoreIdempotency {
  reserve(
    owner: string,
    key: string,
    fingerprint: string,
  ): IdempotencyReservation | Promise<IdempotencyReservation>;
  complete(owner: string, key: string, analysisId: string): void | Promise<void>;
  release(owner: string, key: string): void | Promise<void>;
}

export interface StoreParts {
  records: StoreRecords;
  log: StoreLog;
  retention: StoreRetention;
  idempotency: StoreIdempotency;
}

/**
 * An AnalysisStore served by one part per concept: each store (memory,
 * Redis) supplies its parts, and the interface is delegated here once.
 */
export abstract class ComposedStore<Parts extends StoreParts = StoreParts> implements AnalysisStore {
  constructor(protected readonly parts: Parts) {}

  insert(record: AnalysisRecord, job: AnalysisJob): Promise<void> {
    return this.parts.records.insert(record, job);
  }

  get(id: string): Promise<StoredAnalysis | undefined> {
    return this.parts.records.get(id);
  }

  save(record: AnalysisRecord, options?: WriteOptions): Promise<boolean> {
    return this.parts.records.save(record, options);
  }

  list(owner: string, query: ListQuery): Promise<ListPage> {
    return this.parts.records.list(owner, query);
  }

  delete(id: string): Promise<boolean> {
    return this.parts.records.delete(id);
  }

  append(id: string, event: AnalysisEventPayload, options?: WriteOptions): Promise<StoredEvent | undefined> {
    return this.parts.log.append(id, event, options);
  }

  readEvents(id: string, afterId: number): Promise<StoredEvent[]> {
    return this.parts.log.readEvents(id, afterId);
  }

  readHistory(id: string, afterId: number, options: HistoryOptions): AsyncIterable<HistoryPiece> {
    return this.parts.log.readHistory(id, afterId, options);
  }

  logHead(id: string): Promise<LogHead | undefined> {
    return this.parts.log.logHead(id);
  }

  subscribe(id: string, listener: EventListener, onGone?: () => void): Promise<() => void> {
    return this.parts.log.subscribe(id, listener, onGone);
  }

  retain(id: string): void {
    this.parts.retention.retain(id);
  }

  bytesHeld(): Promise<number> {
    return this.parts.retention.bytesHeld();
  }

  async reserveIdempotencyKey(
    owner: string,
    key: string,
    fingerprint: string,
  ): Promise<IdempotencyReservation> {
    return this.parts.idempotency.reserve(owner, key, fingerprint);
  }

  async completeIdempotencyKey(owner: string, key: string, analysisId: string): Promise<void> {
    await this.parts.idempotency.complete(owner, key, analysisId);
  }

  async releaseIdempotencyKey(owner: string, key: string): Promise<void> {
    await this.parts.idempotency.release(owner, key);
  }

  abstract ping(): Promise<boolean>;
  abstract close(): Promise<void>;
}
