import type { AnalysisJob } from '../job.js';
import type { AnalysisRecord } from '../record.js';
import type { StoreRecords } from './composed-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { MemoryLog } from './memory-log.js';
import type { ListPage, ListQuery, StoredAnalysis } from './store.js';

/** An analysis held in memory: its record, job, log and what retention counts for it. */
export interface MemoryEntry extends StoredAnalysis {
  owner: string;
  sequence: number;
  log: MemoryLog;
  retainedAt: number | undefined;
  /** Bytes counted for it while retained (0 until its log is packed). */
  bytes: number;
}

/** The memory store's analyses by id, and per owner in creation order for listing. */
export class MemoryRecords implements StoreRecords {
  private readonly entries = new Map<string, MemoryEntry>();
  /** Per owner, entries in creation order (oldest first). */
  private readonly byOwner = new Map<string, MemoryEntry[]>();
  private sequence = 0;

  /** `onRemove` is told of every entry removed (deleted, expired, evicted). */
  constructor(private readonly onRemove: (entry: MemoryEntry) => void) {}

  entry(id: string): MemoryEntry | undefined {
    return this.entries.get(id);
  }

  /** Whether this very entry is still held (not removed, nor replaced under its id). */
  holds(entry: MemoryEntry): boolean {
    return this.entries.get(entry.record.id) === entry;
  }

  async insert(record: AnalysisRecord, job: AnalysisJob): Promise<void> {
    const entry: MemoryEntry = {
      record,
      job,
      owner: job.owner,
      sequence: ++this.sequence,
      log: new MemoryLog(),
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

  /** Holds the record as it is now (the memory store keeps the object itself). */
  async save(record: AnalysisRecord): Promise<boolean> {
    const entry = this.entries.get(record.id);
    if (!entry || entry.log.closed) return false;
    entry.record = record;
    return true;
  }

  async list(owner: string, query: ListQuery): Promise<ListPage> {
    const list = this.byOwner.get(owner) ?? [];
    const before = query.cursor === undefined ? Number.POSITIVE_INFINITY : (decodeCursor(query.cursor) ?? 0);
    const data: AnalysisRecord[] = [];
    let last: MemoryEntry | undefined;
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

  remove(entry: MemoryEntry): void {
    this.entries.delete(entry.record.id);
    const list = this.byOwner.get(entry.owner);
    if (list) {
      const index = list.indexOf(entry);
      if (index >= 0) list.splice(index, 1);
      if (list.length === 0) this.byOwner.delete(entry.owner);
    }
    this.onRemove(entry);
  }

  get size(): number {
    return this.entries.size;
  }
}
