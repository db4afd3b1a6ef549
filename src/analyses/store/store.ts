import type { AnalysisEventPayload, StoredEvent } from '../events.js';
import type { AnalysisJob } from '../job.js';
import type { AnalysisRecord, AnalysisStatus } from '../record.js';

export type EventListener = (event: StoredEvent) => void;

/**
 * A bounded piece of an analysis's history, as a replay writes it: the bytes
 * of one or more frames (a frame larger than a piece spans several), the id
 * of the last frame it completes, whether it stops inside a frame, and whether
 * it completes the terminal event.
 */
export interface HistoryPiece {
  bytes: Buffer | string;
  lastId: number;
  partial: boolean;
  terminal: boolean;
}

export interface HistoryOptions {
  /** false: leave out `model.delta` frames. */
  deltas: boolean;
  /** Bytes per piece, about (a whole frame may exceed it where the store cannot split one). */
  pieceBytes: number;
}

/** Where an analysis's log stands: the last event id, and whether the terminal event is in. */
export interface LogHead {
  lastId: number;
  ended: boolean;
}

export interface ListQuery {
  status?: AnalysisStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface ListPage {
  data: AnalysisRecord[];
  nextCursor: string | null;
}

export type IdempotencyReservation =
  | { state: 'new' }
  | { state: 'pending'; fingerprint: string }
  | { state: 'done'; fingerprint: string; analysisId: string };

/** Who writes: a worker passes the lock it holds on the job, so a writer that lost it is refused. */
export interface WriteOptions {
  lockToken?: string | undefined;
  /** With a terminal event: the final record, written together with the event. */
  record?: AnalysisRecord | undefined;
  /** When the event happened, epoch milliseconds (default: now). */
  at?: number | undefined;
}

/** How long and how much of the finished analyses a store keeps, and how long idempotency keys live. */
export interface RetentionLimits {
  ttlSeconds: number;
  maxRetained: number;
  /** Bytes of finished analyses kept (see bytesHeld); default: no bound but the count. */
  maxRetainedBytes?: number;
  idempotencyTtlSeconds?: number;
}

export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;

export interface StoredAnalysis {
  record: AnalysisRecord;
  job: AnalysisJob;
}

/**
 * Where analyses live: records, their event logs and idempotency keys. The
 * memory store is the default; a Redis store implements the same interface.
 */
export interface AnalysisStore {
  insert(record: AnalysisRecord, job: AnalysisJob): Promise<void>;
  get(id: string): Promise<StoredAnalysis | undefined>;
  /**
   * Persists the record's current state (the memory store holds the object
   * itself). Refused (false) once the analysis has ended or the lock is lost.
   */
  save(record: AnalysisRecord, options?: WriteOptions): Promise<boolean>;
  list(owner: string, query: ListQuery): Promise<ListPage>;
  delete(id: string): Promise<boolean>;

  /**
   * Appends an event to the analysis's log, serializing its frame once, and
   * wakes the subscribers. Returns undefined when the log is closed (the
   * analysis already ended): nothing is written after the terminal event.
   */
  append(id: string, event: AnalysisEventPayload, options?: WriteOptions): Promise<StoredEvent | undefined>;
  /**
   * A synchronous append, for stores that need no round trip (the memory
   * store); `record`, when given, is the record this event leaves.
   */
  appendNow?(id: string, event: AnalysisEventPayload, options?: WriteOptions): StoredEvent | undefined;
  /** Events after `afterId`, in order. */
  readEvents(id: string, afterId: number): Promise<StoredEvent[]>;
  /**
   * The history after `afterId` in pieces of about `pieceBytes`, read as the
   * consumer pulls them: a replay never holds the whole log, and a finished
   * (packed) log is inflated a block at a time.
   */
  readHistory(id: string, afterId: number, options: HistoryOptions): AsyncIterable<HistoryPiece>;
  /** The log's last id and whether it ended; undefined when the analysis does not exist. */
  logHead(id: string): Promise<LogHead | undefined>;
  /**
   * Live events from now on, in order; resolves (with the unsubscribe function)
   * once the subscription is in place, so a read of the history after it
   * misses nothing. `onGone` is called (once) if the analysis disappears while
   * subscribed (deleted, evicted, or lost by the store), ended or not.
   */
  subscribe(id: string, listener: EventListener, onGone?: () => void): Promise<() => void>;

  /** Marks a finished analysis for retention by age, count and bytes. */
  retain(id: string): void;
  /**
   * Bytes held for the finished analyses retained (record, job and event log
   * of each), the total MAX_RETAINED_BYTES bounds. Running analyses are
   * bounded per analysis instead (MAX_ANALYSIS_INPUT_BYTES, MAX_ANALYSIS_EVENT_BYTES).
   */
  bytesHeld(): Promise<number>;

  reserveIdempotencyKey(owner: string, key: string, fingerprint: string): Promise<IdempotencyReservation>;
  completeIdempotencyKey(owner: string, key: string, analysisId: string): Promise<void>;
  releaseIdempotencyKey(owner: string, key: string): Promise<void>;

  /** Whether the store answers (`/readyz`). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
