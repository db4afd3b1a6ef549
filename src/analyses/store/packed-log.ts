import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AnalysisEventType, StoredEvent } from '../../domain/analysis.js';

/**
 * A finished analysis's event log, kept compact for as long as it is retained:
 * the frames joined into one string, then deflated into one buffer, with the
 * offset where each frame starts. A retained analysis then holds a few
 * kilobytes instead of a hundred small frame strings (tens of kilobytes: the
 * frames repeat the same keys, ids and prompt text); replays, which are rare
 * once an analysis has ended, inflate it again (well under a millisecond).
 */
export class PackedLog {
  private readonly deflated: Buffer;
  /** Where frame i starts in the joined text (one more entry than frames: the end). */
  private readonly offsets: Uint32Array;
  private readonly types: AnalysisEventType[];

  constructor(events: readonly StoredEvent[]) {
    this.offsets = new Uint32Array(events.length + 1);
    this.types = new Array(events.length);
    let length = 0;
    for (let index = 0; index < events.length; index++) {
      this.offsets[index] = length;
      this.types[index] = events[index]!.type;
      length += events[index]!.frame.length;
    }
    this.offsets[events.length] = length;
    // Level 1: most of the gain for a fraction of the default level's time.
    const deflated = deflateRawSync(events.map((event) => event.frame).join(''), { level: 1 });
    // zlib hands back a view of its 16 KB output chunk: keep an exact-size copy instead.
    this.deflated = Buffer.from(deflated);
  }

  /** Bytes this log holds: the deflated frames, their offsets and a reference per type. */
  get byteLength(): number {
    return this.deflated.byteLength + this.offsets.byteLength + this.types.length * 8;
  }

  /** Events with ids after `afterId` (ids are 1-based positions). */
  read(afterId: number): StoredEvent[] {
    const from = Math.max(0, afterId);
    if (from >= this.types.length) return [];
    const text = inflateRawSync(this.deflated).toString('utf8');
    const events: StoredEvent[] = [];
    for (let index = from; index < this.types.length; index++) {
      events.push({
        id: index + 1,
        type: this.types[index]!,
        frame: text.slice(this.offsets[index], this.offsets[index + 1]),
      });
    }
    return events;
  }
}
