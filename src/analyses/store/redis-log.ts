import type { Redis } from 'ioredis';
import {
  type AnalysisEventPayload,
  type AnalysisEventType,
  eventDataLine,
  eventFrame,
  type StoredEvent,
  TERMINAL_EVENTS,
} from '../events.js';
import type { StoreLog } from './composed-store.js';
import { framePieces } from './history.js';
import { RedisChannels } from './redis-channels.js';
import type { RedisKeys } from './redis-keys.js';
import type { EventListener, HistoryOptions, HistoryPiece, LogHead, WriteOptions } from './store.js';

export interface RedisEventLogOptions {
  redis: Redis;
  /** The process's one connection in subscriber mode, for all its event-stream readers. */
  subscriber: Redis;
  keys: RedisKeys;
  /** How long a finished analysis's keys live. */
  ttlSeconds: number;
  /** How often the streamed analyses are checked to still exist. */
  watchIntervalMs: number;
}

/** Stream entries read per round trip of a replay. */
const HISTORY_PAGE = 64;

const FRAME_HEAD = /^id: (\d+)\nevent: ([a-z.]+)\n/;

function parseFrame(frame: string): StoredEvent | undefined {
  const match = FRAME_HEAD.exec(frame);
  if (!match) return undefined;
  return { id: Number(match[1]), type: match[2] as AnalysisEventType, frame };
}

/** The events of Stream entries (one field, `f`, the frame). */
function eventsOf(entries: [id: string, fields: string[]][]): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (const [, fields] of entries) {
    const event = fields[1] ? parseFrame(fields[1]) : undefined;
    if (event) events.push(event);
  }
  return events;
}

/**
 * Each analysis's event log in Redis, a Stream with ids `0-<n>` written by
 * one script (APPEND) whoever writes; live events reach this process's
 * subscribers through one subscriber connection (RedisChannels).
 */
export class RedisEventLog implements StoreLog {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly channels: RedisChannels;

  constructor(private readonly options: RedisEventLogOptions) {
    this.redis = options.redis;
    this.keys = options.keys;
    this.channels = new RedisChannels({
      subscriber: options.subscriber,
      channel: (id) => this.keys.channel(id),
      parse: parseFrame,
      readEvents: (id, afterId) => this.readEvents(id, afterId),
      exist: async (ids) => {
        const replies = await this.redis.pipeline(ids.map((id) => ['exists', this.keys.analysis(id)])).exec();
        return ids.map((_, index) => {
          const [error, exists] = replies?.[index] ?? [null, 1];
          return Boolean(error) || exists !== 0;
        });
      },
      watchIntervalMs: options.watchIntervalMs,
    });
  }

  async append(
    id: string,
    event: AnalysisEventPayload,
    options: WriteOptions = {},
  ): Promise<StoredEvent | undefined> {
    // The data line is built here; the script adds `id:` and `event:` around it.
    const dataLine = eventDataLine(id, event, new Date(options.at ?? Date.now()).toISOString());
    const terminal = TERMINAL_EVENTS.has(event.type);
    const [lockKey, token] = this.keys.writer(id, options.lockToken);
    const eventId = await this.redis.chorusAppend(
      this.keys.analysis(id),
      this.keys.events(id),
      lockKey,
      ...this.keys.finished,
      event.type,
      dataLine,
      terminal ? '1' : '0',
      token,
      options.record ? JSON.stringify(options.record) : '',
      this.keys.channel(id),
      String(this.options.ttlSeconds),
      String(Date.now()),
    );
    if (eventId === null || eventId === undefined) return undefined;
    const n = Number(eventId);
    return { id: n, type: event.type, frame: eventFrame(n, event.type, dataLine) };
  }

  async readEvents(id: string, afterId: number): Promise<StoredEvent[]> {
    return eventsOf(await this.redis.xrange(this.keys.events(id), `(0-${afterId}`, '+'));
  }

  async *readHistory(id: string, afterId: number, options: HistoryOptions): AsyncGenerator<HistoryPiece> {
    let after = afterId;
    for (;;) {
      const entries = await this.redis.xrange(
        this.keys.events(id),
        `(0-${after}`,
        '+',
        'COUNT',
        HISTORY_PAGE,
      );
      yield* framePieces(eventsOf(entries), options);
      if (entries.length < HISTORY_PAGE) return;
      after = Number(entries[entries.length - 1]![0].slice(2));
    }
  }

  async logHead(id: string): Promise<LogHead | undefined> {
    const [seq, closed] = await this.redis.hmget(this.keys.analysis(id), 'seq', 'closed');
    if (seq === null) return undefined;
    return { lastId: Number(seq), ended: closed === '1' };
  }

  subscribe(id: string, listener: EventListener, onGone?: () => void): Promise<() => void> {
    return this.channels.subscribe(id, listener, onGone);
  }

  close(): void {
    this.channels.close();
  }
}
