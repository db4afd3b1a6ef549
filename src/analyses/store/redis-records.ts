import type { Redis } from 'ioredis';
import type { AnalysisJob } from '../job.js';
import type { AnalysisRecord } from '../record.js';
import type { StoreRecords } from './composed-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { RedisKeys } from './redis-keys.js';
import type { ListPage, ListQuery, StoredAnalysis, WriteOptions } from './store.js';

/** Records in Redis: a hash per analysis, and per owner an index by creation sequence for listing. */
export class RedisRecords implements StoreRecords {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async insert(record: AnalysisRecord, job: AnalysisJob): Promise<void> {
    const sequence = await this.redis.incr(this.keys.sequence);
    await this.redis
      .multi()
      .hset(this.keys.analysis(record.id), {
        id: record.id,
        owner: job.owner,
        record: JSON.stringify(record),
        job: JSON.stringify(job),
        seq: 0,
        closed: '0',
      })
      .zadd(this.keys.owner(job.owner), sequence, record.id)
      .exec();
  }

  async get(id: string): Promise<StoredAnalysis | undefined> {
    const [record, job] = await this.redis.hmget(this.keys.analysis(id), 'record', 'job');
    if (!record || !job) return undefined;
    return { record: JSON.parse(record) as AnalysisRecord, job: JSON.parse(job) as AnalysisJob };
  }

  async save(record: AnalysisRecord, options: WriteOptions = {}): Promise<boolean> {
    const [lockKey, token] = this.keys.writer(record.id, options.lockToken);
    const written = await this.redis.chorusSave(
      this.keys.analysis(record.id),
      lockKey,
      JSON.stringify(record),
      token,
    );
    return written === 1;
  }

  async list(owner: string, query: ListQuery): Promise<ListPage> {
    const index = this.keys.owner(owner);
    let max = query.cursor === undefined ? '+inf' : `(${decodeCursor(query.cursor) ?? 0}`;
    const data: AnalysisRecord[] = [];
    let lastSequence: number | undefined;
    const batch = Math.max(query.limit + 1, 50);
    for (;;) {
      const page = await this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      if (page.length === 0) return { data, nextCursor: null };
      const ids = page.filter((_, position) => position % 2 === 0);
      const records = await this.redis
        .pipeline(ids.map((id) => ['hget', this.keys.analysis(id), 'record']))
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
    const owner = await this.redis.hget(this.keys.analysis(id), 'owner');
    if (owner === null) return false;
    await this.redis.chorusDelete(
      this.keys.analysis(id),
      this.keys.events(id),
      this.keys.owner(owner),
      ...this.keys.finished,
      id,
    );
    return true;
  }

  /** An evicted analysis's keys and its place in its owner's index (already gone if it expired). */
  async removeKeys(id: string): Promise<void> {
    const owner = await this.redis.hget(this.keys.analysis(id), 'owner');
    const removal = this.redis.multi().del(this.keys.analysis(id), this.keys.events(id));
    if (owner !== null) removal.zrem(this.keys.owner(owner), id);
    await removal.exec();
  }
}
