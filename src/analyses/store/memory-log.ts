import { type AnalysisEventPayload, LoggedEvent, type StoredEvent, TERMINAL_EVENTS } from '../events.js';
import type { AnalysisRecord } from '../record.js';
import type { StoreLog } from './composed-store.js';
import { framePieces } from './history.js';
import { PackedLog } from './packed-log.js';
import type { EventListener, HistoryOptions, HistoryPiece, LogHead, WriteOptions } from './store.js';

/**
 * One analysis's event log in memory and its live subscribers: the events
 * while it runs, packed once it is finished and retained.
 */
export class MemoryLog {
  /** The log while the analysis runs; emptied once it is packed. */
  private events: StoredEvent[] = [];
  /** The log of a finished, retained analysis. */
  private packed: PackedLog | undefined;
  private ended = false;
  private listeners: Set<EventListener> | undefined;
  /** Told when the analysis is removed while streamed (deleted, expired, evicted). */
  private goneListeners: Set<() => void> | undefined;

  /** Whether the terminal event is in: nothing is written after it. */
  get closed(): boolean {
    return this.ended;
  }

  get lastId(): number {
    return this.packed ? this.packed.length : this.events.length;
  }

  /** Whether there is a finished log to pack. */
  get packable(): boolean {
    return this.ended && this.events.length > 0;
  }

  /** Appends to an open log and wakes the subscribers. */
  append(id: string, event: AnalysisEventPayload, at: number): StoredEvent {
    const stored = new LoggedEvent(this.events.length + 1, id, event, at);
    this.events.push(stored);
    if (TERMINAL_EVENTS.has(event.type)) this.ended = true;
    if (this.listeners) {
      for (const listener of this.listeners) listener(stored);
      if (this.ended) this.listeners = undefined;
    }
    return stored;
  }

  read(afterId: number): StoredEvent[] {
    if (this.packed) return this.packed.read(afterId);
    return afterId <= 0 ? this.events.slice() : this.events.slice(afterId);
  }

  *pieces(afterId: number, options: HistoryOptions): Generator<HistoryPiece> {
    // A log packed while it is read is read on from the events held so far: the same frames.
    if (this.packed) yield* this.packed.pieces(afterId, options);
    else yield* framePieces(this.events.slice(Math.max(0, afterId)), options);
  }

  subscribe(listener: EventListener, onGone?: () => void): () => void {
    if (onGone) {
      this.goneListeners ??= new Set();
      this.goneListeners.add(onGone);
    }
    if (!this.ended) {
      this.listeners ??= new Set();
      this.listeners.add(listener);
    }
    return () => {
      this.listeners?.delete(listener);
      if (onGone) this.goneListeners?.delete(onGone);
    };
  }

  /** Packs the finished log; returns the bytes it now holds. */
  pack(): number {
    this.packed = new PackedLog(this.events);
    this.events = [];
    return this.packed.heldBytes;
  }

  /** The analysis is removed: its subscribers are dropped, and those waiting for it to go are told. */
  gone(): void {
    this.listeners = undefined;
    const gone = this.goneListeners;
    this.goneListeners = undefined;
    if (gone) for (const listener of gone) listener();
  }
}

/** What the log of an analysis is found with: its record (a terminal event may bring the final one) and log. */
export interface LoggedAnalysis {
  record: AnalysisRecord;
  readonly log: MemoryLog;
}

/** The memory store's event logs, found by analysis id. */
export class MemoryEventLog implements StoreLog {
  constructor(
    private readonly find: (id: string) => LoggedAnalysis | undefined,
    private readonly now: () => number,
  ) {}

  async append(
    id: string,
    event: AnalysisEventPayload,
    options: WriteOptions = {},
  ): Promise<StoredEvent | undefined> {
    return this.appendNow(id, event, options);
  }

  appendNow(id: string, event: AnalysisEventPayload, options: WriteOptions = {}): StoredEvent | undefined {
    const entry = this.find(id);
    if (!entry || entry.log.closed) return undefined;
    if (options.record) entry.record = options.record;
    return entry.log.append(id, event, options.at ?? this.now());
  }

  async readEvents(id: string, afterId: number): Promise<StoredEvent[]> {
    return this.find(id)?.log.read(afterId) ?? [];
  }

  async *readHistory(id: string, afterId: number, options: HistoryOptions): AsyncGenerator<HistoryPiece> {
    const entry = this.find(id);
    if (entry) yield* entry.log.pieces(afterId, options);
  }

  async logHead(id: string): Promise<LogHead | undefined> {
    const log = this.find(id)?.log;
    return log && { lastId: log.lastId, ended: log.closed };
  }

  async subscribe(id: string, listener: EventListener, onGone?: () => void): Promise<() => void> {
    const entry = this.find(id);
    if (entry) return entry.log.subscribe(listener, onGone);
    onGone?.();
    return () => {};
  }
}
