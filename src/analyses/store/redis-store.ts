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
import { APPEND, SAVE } from './redis-scripts.js';
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

  constructor(private readonly options: RedisStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'chorus';
    this.redis.defineCommand('chorusAppend', { numberOfKeys: 4, lua: APPEND });
    this.redis.defineCommand('chorusSave', { numberOfKeys: 2, lua: SAVE });
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
    await this.redis
      .multi()
      .del(this.key('a', id), this.key('e', id))
      .zrem(`${this.prefix}:owner:${owner}`, id)
      .zrem(`${this.prefix}:finished`, id)
      .exec();
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
      `${this.prefix}:finished`,
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

  /** Keeps at most `maxRetained` finished analyses (expiry by age is Redis's own TTL). */
  retain(): void {
    const finished = `${this.prefix}:finished`;
    void (async () => {
      const excess = (await this.redis.zcard(finished)) - this.options.maxRetained;
      if (excess <= 0) return;
      const oldest = await this.redis.zrange(finished, 0, excess - 1);
      for (const id of oldest) await this.delete(id);
      await this.redis.zrem(finished, ...oldest);
    })().catch(() => {});
  }

  private idempotencyKey(owner: string, key: string): string {
    return `${this.prefix}:idempotency:${owner}:${Buffer.from(key).toString('base64url')}`;
  }

  async reserveIdempotencyKey(
    owner: string,
    key: string,
    fingerprint: string,
  ): Promise<IdempotencyReservation> {
    const name = this.idempotencyKey(owner, key);
    const ttl = this.options.idempotencyTtlSeconds ?? 86_400;
    const set = await this.redis.set(name, JSON.stringify({ fingerprint }), 'EX', ttl, 'NX');
    if (set === 'OK') return { state: 'new' };
    const value = await this.redis.get(name);
    if (!value) return this.reserveIdempotencyKey(owner, key, fingerprint);
    const parsed = JSON.parse(value) as { fingerprint: string; analysisId?: string };
    return parsed.analysisId === undefined
      ? { state: 'pending', fingerprint: parsed.fingerprint }
      : { state: 'done', fingerprint: parsed.fingerprint, analysisId: parsed.analysisId };
  }

  async completeIdempotencyKey(owner: string, key: string, analysisId: string): Promise<void> {
    const name = this.idempotencyKey(owner, key);
    const value = await this.redis.get(name);
    if (!value) return;
    const parsed = JSON.parse(value) as { fingerprint: string };
    await this.redis.set(name, JSON.stringify({ ...parsed, analysisId }), 'KEEPTTL', 'XX');
  }

  async releaseIdempotencyKey(owner: string, key: string): Promise<void> {
    await this.redis.del(this.idempotencyKey(owner, key));
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
  }
}
