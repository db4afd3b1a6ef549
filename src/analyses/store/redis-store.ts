import type { Redis, Result } from 'ioredis';
import {
  type AnalysisEventPayload,
  type AnalysisEventType,
  eventDataLine,
  eventFrame,
  type StoredEvent,
  TERMINAL_EVENTS,
} from '../events.js';
import type { AnalysisJob } from '../job.js';
import type { AnalysisRecord } from '../record.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { framePieces } from './history.js';
import { RedisChannels } from './redis-channels.js';
import { RedisIdempotencyKeys } from './redis-idempotency.js';
import { APPEND, DELETE, EVICT, SAVE } from './redis-scripts.js';
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

export interface RedisStoreOptions {
  /** Commands. */
  redis: Redis;
  /** A second connection in subscriber mode: one per process, for all its event-stream readers. */
  subscriber: Redis;
  ttlSeconds: number;
  maxRetained: number;
  /** Bytes of finished analyses kept (see bytesHeld); default: no bound but the count. */
  maxRetainedBytes?: number;
  /** BullMQ's key of a job's lock, checked on every write by a worker. */
  lockKey: (id: string) => string;
  prefix?: string;
  idempotencyTtlSeconds?: number;
  /**
   * How often the analyses this process streams are checked to still exist
   * (a flushed or replaced Redis loses them without a word): their streams
   * then end instead of waiting forever.
   */
  watchIntervalMs?: number;
}

/** Stream entries read per round trip of a replay. */
const HISTORY_PAGE = 64;

const FRAME_HEAD = /^id: (\d+)\nevent: ([a-z.]+)\n/;

function parseFrame(frame: string): StoredEvent | undefined {
  const match = FRAME_HEAD.exec(frame);
  if (!match) return undefined;
  return { id: Number(match[1]), type: match[2] as AnalysisEventType, frame };
}

/**
 * Analyses in Redis: a hash per analysis (record, job, owner, event counter),
 * its event log as a Stream with ids `0-<n>` that expires with the record, an
 * owner index for listing, idempotency keys and custom patterns. Live events
 * reach this process's subscribers through one subscriber connection
 * (`RedisChannels`).
 */
export class RedisStore implements AnalysisStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly channels: RedisChannels;
  private readonly idempotency: RedisIdempotencyKeys;

  constructor(private readonly options: RedisStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'chorus';
    this.idempotency = new RedisIdempotencyKeys(
      this.redis,
      this.prefix,
      options.idempotencyTtlSeconds ?? 86_400,
    );
    this.redis.defineCommand('chorusAppend', { numberOfKeys: 6, lua: APPEND });
    this.redis.defineCommand('chorusSave', { numberOfKeys: 2, lua: SAVE });
    this.redis.defineCommand('chorusEvict', { numberOfKeys: 3, lua: EVICT });
    this.redis.defineCommand('chorusDelete', { numberOfKeys: 6, lua: DELETE });
    this.channels = new RedisChannels({
      subscriber: options.subscriber,
      channel: (id) => this.channel(id),
      parse: parseFrame,
      readEvents: (id, afterId) => this.readEvents(id, afterId),
      exist: async (ids) => {
        const replies = await this.redis.pipeline(ids.map((id) => ['exists', this.key('a', id)])).exec();
        return ids.map((_, index) => {
          const [error, exists] = replies?.[index] ?? [null, 1];
          return Boolean(error) || exists !== 0;
        });
      },
      watchIntervalMs: options.watchIntervalMs ?? 15_000,
    });
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}:{${id}}:${kind}`;
  }

  /** The retention index, each finished analysis's size, and their total. */
  private get finished(): [index: string, sizes: string, bytes: string] {
    return [`${this.prefix}:finished`, `${this.prefix}:finished:sizes`, `${this.prefix}:finished:bytes`];
  }

  private channel(id: string): string {
    return `${this.prefix}:events:${id}`;
  }

  async insert(record: AnalysisRecord, job: AnalysisJob): Promise<void> {
    const sequence = await this.redis.incr(`${this.prefix}:sequence`);
    await this.redis
      .multi()
      .hset(this.key('a', record.id), {
        id: record.id,
        owner: job.owner,
        record: JSON.stringify(record),
        job: JSON.stringify(job),
        seq: 0,
        closed: '0',
      })
      .zadd(`${this.prefix}:owner:${job.owner}`, sequence, record.id)
      .exec();
  }

  async get(id: string): Promise<StoredAnalysis | undefined> {
    const [record, job] = await this.redis.hmget(this.key('a', id), 'record', 'job');
    if (!record || !job) return undefined;
    return { record: JSON.parse(record) as AnalysisRecord, job: JSON.parse(job) as AnalysisJob };
  }

  async save(record: AnalysisRecord, options: WriteOptions = {}): Promise<boolean> {
    const written = await this.redis.chorusSave(
      this.key('a', record.id),
      options.lockToken ? this.options.lockKey(record.id) : this.key('lock', record.id),
      JSON.stringify(record),
      options.lockToken ?? '',
    );
    return written === 1;
  }

  async list(owner: string, query: ListQuery): Promise<ListPage> {
    const index = `${this.prefix}:owner:${owner}`;
    let max = query.cursor === undefined ? '+inf' : `(${decodeCursor(query.cursor) ?? 0}`;
    const data: AnalysisRecord[] = [];
    let lastSequence: number | undefined;
    const batch = Math.max(query.limit + 1, 50);
    for (;;) {
      const page = await this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      if (page.length === 0) return { data, nextCursor: null };
      const ids = page.filter((_, position) => position % 2 === 0);
      const records = await this.redis
        .pipeline(ids.map((id) => ['hget', this.key('a', id), 'record']))
        .exec();
      const gone: string[] = [];
      for (let position = 0; position < ids.length; position++) {
        const json = records?.[position]?.[1] as string | null;
        const sequence = Number(page[position * 2 + 1]);
        if (!json) {
          gone.push(ids[position]!);
          continue;
        }
        const record = JSON.parse(json) as AnalysisRecord;
        if (query.status !== undefined && record.status !== query.status) {
          lastSequence = sequence;
          continue;
        }
        if (data.length === query.limit) return { data, nextCursor: encodeCursor(lastSequence!) };
        data.push(record);
        lastSequence = sequence;
      }
      if (gone.length > 0) await this.redis.zrem(index, ...gone);
      if (ids.length < batch) return { data, nextCursor: null };
      max = `(${page[page.length - 1]}`;
    }
  }

  async delete(id: string): Promise<boolean> {
    const owner = await this.redis.hget(this.key('a', id), 'owner');
    if (owner === null) return false;
    await this.redis.chorusDelete(
      this.key('a', id),
      this.key('e', id),
      `${this.prefix}:owner:${owner}`,
      ...this.finished,
      id,
    );
    return true;
  }

  async append(
    id: string,
    event: AnalysisEventPayload,
    options: WriteOptions = {},
  ): Promise<StoredEvent | undefined> {
    // The data line is built here; the script adds `id:` and `event:` around it.
    const dataLine = eventDataLine(id, event, new Date(options.at ?? Date.now()).toISOString());
    const terminal = TERMINAL_EVENTS.has(event.type);
    const eventId = await this.redis.chorusAppend(
      this.key('a', id),
      this.key('e', id),
      options.lockToken ? this.options.lockKey(id) : this.key('lock', id),
      ...this.finished,
      event.type,
      dataLine,
      terminal ? '1' : '0',
      options.lockToken ?? '',
      options.record ? JSON.stringify(options.record) : '',
      this.channel(id),
      String(this.options.ttlSeconds),
      String(Date.now()),
    );
    if (eventId === null || eventId === undefined) return undefined;
    const n = Number(eventId);
    return { id: n, type: event.type, frame: eventFrame(n, event.type, dataLine) };
  }

  async readEvents(id: string, afterId: number): Promise<StoredEvent[]> {
    const entries = await this.redis.xrange(this.key('e', id), `(0-${afterId}`, '+');
    const events: StoredEvent[] = [];
    for (const [, fields] of entries) {
      const frame = fields[1];
      const event = frame ? parseFrame(frame) : undefined;
      if (event) events.push(event);
    }
    return events;
  }

  async *readHistory(id: string, afterId: number, options: HistoryOptions): AsyncGenerator<HistoryPiece> {
    let after = afterId;
    for (;;) {
      const entries = await this.redis.xrange(this.key('e', id), `(0-${after}`, '+', 'COUNT', HISTORY_PAGE);
      const events: StoredEvent[] = [];
      for (const [, fields] of entries) {
        const event = fields[1] ? parseFrame(fields[1]) : undefined;
        if (event) events.push(event);
      }
      yield* framePieces(events, options);
      if (entries.length < HISTORY_PAGE) return;
      after = Number(entries[entries.length - 1]![0].slice(2));
    }
  }

  async logHead(id: string): Promise<LogHead | undefined> {
    const [seq, closed] = await this.redis.hmget(this.key('a', id), 'seq', 'closed');
    if (seq === null) return undefined;
    return { lastId: Number(seq), ended: closed === '1' };
  }

  subscribe(id: string, listener: EventListener, onGone?: () => void): Promise<() => void> {
    return this.channels.subscribe(id, listener, onGone);
  }

  /**
   * Keeps at most `maxRetained` finished analyses holding at most
   * `maxRetainedBytes` together, the oldest going first. Their keys expire by
   * Redis's own TTL; the index forgets expired ones here, sizes included.
   */
  retain(): void {
    void this.evict().catch(() => {});
  }

  /** Runs retention now; resolves with the number of analyses taken off. */
  async evict(): Promise<number> {
    const batch = 100;
    let total = 0;
    for (;;) {
      const taken = await this.redis.chorusEvict(
        ...this.finished,
        String(Date.now() - this.options.ttlSeconds * 1000),
        String(this.options.maxRetained),
        String(this.options.maxRetainedBytes ?? Number.MAX_SAFE_INTEGER),
        String(batch),
      );
      for (const id of taken) await this.removeKeys(id);
      total += taken.length;
      if (taken.length < batch) return total;
    }
  }

  /** An evicted analysis's keys and its place in its owner's index (already gone if it expired). */
  private async removeKeys(id: string): Promise<void> {
    const owner = await this.redis.hget(this.key('a', id), 'owner');
    const removal = this.redis.multi().del(this.key('a', id), this.key('e', id));
    if (owner !== null) removal.zrem(`${this.prefix}:owner:${owner}`, id);
    await removal.exec();
  }

  async bytesHeld(): Promise<number> {
    return Number((await this.redis.get(this.finished[2])) ?? 0);
  }

  reserveIdempotencyKey(owner: string, key: string, fingerprint: string): Promise<IdempotencyReservation> {
    return this.idempotency.reserve(owner, key, fingerprint);
  }

  completeIdempotencyKey(owner: string, key: string, analysisId: string): Promise<void> {
    return this.idempotency.complete(owner, key, analysisId);
  }

  releaseIdempotencyKey(owner: string, key: string): Promise<void> {
    return this.idempotency.release(owner, key);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.channels.close();
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chorusAppend(...args: string[]): Result<number | null, Context>;
    chorusSave(...args: string[]): Result<number, Context>;
    chorusEvict(...args: string[]): Result<string[], Context>;
    chorusDelete(...args: string[]): Result<number, Context>;
  }
}
