import { jsonBytes } from '../../util/json-bytes.js';
import { type AnalysisEventPayload, LoggedEvent, type StoredEvent, TERMINAL_EVENTS } from '../events.js';
import type { AnalysisJob } from '../job.js';
import type { AnalysisRecord } from '../record.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { framePieces } from './history.js';
import { MemoryIdempotencyKeys } from './memory-idempotency.js';
import { PackedLog } from './packed-log.js';
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

export interface MemoryStoreOptions {
  ttlSeconds: number;
  maxRetained: number;
  /** Bytes of finished analyses kept (see bytesHeld); default: no bound but the count. */
  maxRetainedBytes?: number;
  idempotencyTtlSeconds?: number;
  now?: () => number;
  /** How often expired analyses are swept (the sweep also runs whenever one finishes). */
  sweepIntervalMs?: number;
}

interface Entry extends StoredAnalysis {
  owner: string;
  sequence: number;
  /** The log while the analysis runs; emptied once it is packed. */
  events: StoredEvent[];
  /** The log of a finished, retained analysis. */
  packed: PackedLog | undefined;
  closed: boolean;
  listeners: Set<EventListener> | undefined;
  /** Told when the entry is removed while streamed (deleted, expired, evicted). */
  goneListeners: Set<() => void> | undefined;
  retainedAt: number | undefined;
  /** Bytes counted for it in `retainedBytes` (0 until its log is packed). */
  bytes: number;
}

/** What one sweep did: a sweep's work is what expired, plus one look at what did not. */
export interface SweepResult {
  analysesRemoved: number;
  idempotencyKeysRemoved: number;
  /** Idempotency keys looked at (removed ones and the first still valid). */
  idempotencyKeysExamined: number;
}

export class MemoryStore implements AnalysisStore {
  private readonly entries = new Map<string, Entry>();
  /** Per owner, entries in creation order (oldest first). */
  private readonly byOwner = new Map<string, Entry[]>();
  /** Finished analyses in the order they finished: the retention queue. */
  private readonly retained: Entry[] = [];
  private retainedHead = 0;
  /** Bytes of the retained analyses (see bytesHeld). */
  private retainedBytes = 0;
  private readonly idempotency: MemoryIdempotencyKeys;
  /** Finished logs waiting to be packed (see packSoon). */
  private readonly toPack: Entry[] = [];
  private sequence = 0;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: MemoryStoreOptions) {
    this.now = options.now ?? Date.now;
    this.idempotency = new MemoryIdempotencyKeys((options.idempotencyTtlSeconds ?? 86_400) * 1000, this.now);
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.timer.unref();
  }

  async insert(record: AnalysisRecord, job: AnalysisJob): Promise<void> {
    const entry: Entry = {
      record,
      job,
      owner: job.owner,
      sequence: ++this.sequence,
      events: [],
      packed: undefined,
      closed: false,
      listeners: undefined,
      goneListeners: undefined,
      retainedAt: undefined,
      bytes: 0,
    };
    this.entries.set(record.id, entry);
    let list = this.byOwner.get(job.owner);
    if (!list) {
      list = [];
      this.byOwner.set(job.owner, list);
    }
    list.push(entry);
  }

  async get(id: string): Promise<StoredAnalysis | undefined> {
    return this.entries.get(id);
  }

  async save(record: AnalysisRecord): Promise<boolean> {
    const entry = this.entries.get(record.id);
    if (!entry || entry.closed) return false;
    entry.record = record;
    return true;
  }

  async list(owner: string, query: ListQuery): Promise<ListPage> {
    const list = this.byOwner.get(owner) ?? [];
    const before = query.cursor === undefined ? Number.POSITIVE_INFINITY : (decodeCursor(query.cursor) ?? 0);
    const data: AnalysisRecord[] = [];
    let last: Entry | undefined;
    let more = false;
    for (let index = list.length - 1; index >= 0; index--) {
      const entry = list[index]!;
      if (entry.sequence >= before) continue;
      if (query.status !== undefined && entry.record.status !== query.status) continue;
      if (data.length === query.limit) {
        more = true;
        break;
      }
      data.push(entry.record);
      last = entry;
    }
    return { data, nextCursor: more && last ? encodeCursor(last.sequence) : null };
  }

  async delete(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.remove(entry);
    return true;
  }

  async append(
    id: string,
    event: AnalysisEventPayload,
    options: WriteOptions = {},
  ): Promise<StoredEvent | undefined> {
    return this.appendNow(id, event, options);
  }

  /** Synchronous append: the memory store needs no round trip. */
  appendNow(id: string, event: AnalysisEventPayload, options: WriteOptions = {}): StoredEvent | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.closed) return undefined;
    if (options.record) entry.record = options.record;
    const stored = new LoggedEvent(entry.events.length + 1, id, event, options.at ?? this.now());
    entry.events.push(stored);
    if (TERMINAL_EVENTS.has(event.type)) entry.closed = true;
    if (entry.listeners) {
      for (const listener of entry.listeners) listener(stored);
      if (entry.closed) entry.listeners = undefined;
    }
    return stored;
  }

  async readEvents(id: string, afterId: number): Promise<StoredEvent[]> {
    const entry = this.entries.get(id);
    if (!entry) return [];
    if (entry.packed) return entry.packed.read(afterId);
    return afterId <= 0 ? entry.events.slice() : entry.events.slice(afterId);
  }

  async *readHistory(id: string, afterId: number, options: HistoryOptions): AsyncGenerator<HistoryPiece> {
    const entry = this.entries.get(id);
    if (!entry) return;
    // A log packed while it is read is read on from the events held so far: the same frames.
    if (entry.packed) yield* entry.packed.pieces(afterId, options);
    else yield* framePieces(entry.events.slice(Math.max(0, afterId)), options);
  }

  async logHead(id: string): Promise<LogHead | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    return { lastId: entry.packed ? entry.packed.length : entry.events.length, ended: entry.closed };
  }

  async subscribe(id: string, listener: EventListener, onGone?: () => void): Promise<() => void> {
    const entry = this.entries.get(id);
    if (!entry) {
      onGone?.();
      return () => {};
    }
    if (onGone) {
      entry.goneListeners ??= new Set();
      entry.goneListeners.add(onGone);
    }
    if (!entry.closed) {
      entry.listeners ??= new Set();
      entry.listeners.add(listener);
    }
    return () => {
      entry.listeners?.delete(listener);
      if (onGone) entry.goneListeners?.delete(onGone);
    };
  }

  retain(id: string): void {
    const entry = this.entries.get(id);
    if (!entry || entry.retainedAt !== undefined) return;
    entry.retainedAt = this.now();
    if (entry.closed && entry.events.length > 0) this.packSoon(entry);
    this.retained.push(entry);
    this.sweep();
  }

  /**
   * Packs a finished log after the current turn of the event loop, so the
   * answer to a client waiting for the analysis goes out first; reads in
   * between serve the unpacked events.
   */
  private packSoon(entry: Entry): void {
    this.toPack.push(entry);
    if (this.toPack.length === 1) setImmediate(() => this.packPending()).unref();
  }

  private packPending(): void {
    for (const entry of this.toPack.splice(0)) {
      if (this.entries.get(entry.record.id) !== entry) continue; // expired or deleted meanwhile
      entry.packed = new PackedLog(entry.events);
      entry.events = [];
      this.account(entry);
    }
    this.sweepRetained(this.now());
  }

  /** Counts a finished analysis's bytes once its log is packed: what it will hold while retained. */
  private account(entry: Entry): void {
    entry.bytes = jsonBytes(entry.record) + jsonBytes(entry.job) + (entry.packed?.heldBytes ?? 0);
    this.retainedBytes += entry.bytes;
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

  private sweepRetained(now: number): number {
    const oldestAllowed = now - this.options.ttlSeconds * 1000;
    const maxBytes = this.options.maxRetainedBytes ?? Number.POSITIVE_INFINITY;
    let removed = 0;
    while (this.retainedHead < this.retained.length) {
      const entry = this.retained[this.retainedHead]!;
      const live = this.retained.length - this.retainedHead;
      const gone = !this.entries.has(entry.record.id) || this.entries.get(entry.record.id) !== entry;
      if (
        !gone &&
        live <= this.options.maxRetained &&
        this.retainedBytes <= maxBytes &&
        (entry.retainedAt ?? now) > oldestAllowed
      )
        break;
      // Clear the slot so an expired analysis is collectable at once, not at the next compaction.
      (this.retained as Array<Entry | undefined>)[this.retainedHead] = undefined;
      this.retainedHead++;
      if (!gone) {
        this.remove(entry);
        removed++;
      }
    }
    if (this.retainedHead > 1024 && this.retainedHead * 2 > this.retained.length) {
      this.retained.splice(0, this.retainedHead);
      this.retainedHead = 0;
    }
    return removed;
  }

  async bytesHeld(): Promise<number> {
    return this.retainedBytes;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.record.id);
    this.retainedBytes -= entry.bytes;
    entry.bytes = 0;
    const list = this.byOwner.get(entry.owner);
    if (list) {
      const index = list.indexOf(entry);
      if (index >= 0) list.splice(index, 1);
      if (list.length === 0) this.byOwner.delete(entry.owner);
    }
    entry.listeners = undefined;
    const gone = entry.goneListeners;
    entry.goneListeners = undefined;
    if (gone) for (const listener of gone) listener();
  }

  async reserveIdempotencyKey(
    owner: string,
    key: string,
    fingerprint: string,
  ): Promise<IdempotencyReservation> {
    return this.idempotency.reserve(owner, key, fingerprint);
  }

  async completeIdempotencyKey(owner: string, key: string, analysisId: string): Promise<void> {
    this.idempotency.complete(owner, key, analysisId);
  }

  async releaseIdempotencyKey(owner: string, key: string): Promise<void> {
    this.idempotency.release(owner, key);
  }

  /** Analyses held, for tests and metrics. */
  get size(): number {
    return this.entries.size;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }
}
