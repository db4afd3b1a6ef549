import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { type AnalysisEventType, type StoredEvent, TERMINAL_EVENTS } from '../events.js';
import type { HistoryOptions, HistoryPiece } from './store.js';

/**
 * Bytes of joined frames deflated together. A reader inflates one block at a
 * time, so a replay of a large history holds one block, not the history;
 * twice deflate's 32 KB window, so splitting costs little compression.
 */
export const PACKED_BLOCK_BYTES = 64 * 1024;

/**
 * A finished analysis's event log, kept compact for as long as it is retained:
 * the frames joined into one UTF-8 text, cut into fixed-size blocks, each
 * deflated on its own, with the byte offset where each frame starts. A
 * retained analysis then holds a few kilobytes instead of a hundred small
 * frame strings (tens of kilobytes: the frames repeat the same keys, ids and
 * prompt text). A replay streams the log block by block (`pieces`).
 */
export class PackedLog {
  private readonly blocks: Buffer[] = [];
  /** Where frame i starts in the joined bytes (one more entry than frames: the end). */
  private readonly offsets: Uint32Array;
  private readonly types: AnalysisEventType[];

  constructor(events: readonly StoredEvent[]) {
    this.offsets = new Uint32Array(events.length + 1);
    this.types = new Array(events.length);
    let length = 0;
    for (let index = 0; index < events.length; index++) {
      this.offsets[index] = length;
      this.types[index] = events[index]!.type;
      length += Buffer.byteLength(events[index]!.frame);
    }
    this.offsets[events.length] = length;
    const joined = Buffer.from(events.map((event) => event.frame).join(''));
    for (let start = 0; start < joined.length; start += PACKED_BLOCK_BYTES) {
      // Level 1: most of the gain for a fraction of the default level's time. zlib hands
      // back a view of its 16 KB output chunk: keep an exact-size copy instead.
      const block = joined.subarray(start, start + PACKED_BLOCK_BYTES);
      this.blocks.push(Buffer.from(deflateRawSync(block, { level: 1 })));
    }
  }

  /** Events in the log. */
  get length(): number {
    return this.types.length;
  }

  /** Bytes the packed log holds (blocks and index). */
  get heldBytes(): number {
    let bytes = this.offsets.byteLength + this.types.length * 8;
    for (const block of this.blocks) bytes += block.length;
    return bytes;
  }

  /** Events with ids after `afterId` (ids are 1-based positions), as whole frames. */
  read(afterId: number): StoredEvent[] {
    const cache: BlockCache = { index: -1, data: EMPTY };
    const events: StoredEvent[] = [];
    for (let index = Math.max(0, afterId); index < this.types.length; index++) {
      const parts = [...this.range(this.offsets[index]!, this.offsets[index + 1]!, cache)];
      const frame = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
      events.push({ id: index + 1, type: this.types[index]!, frame });
    }
    return events;
  }

  /**
   * The frames after `afterId` in pieces of at most `pieceBytes`, inflating
   * one block at a time. A piece holds whole frames (a view of the inflated
   * block where it can: no copy); a frame larger than a piece leaves in
   * slices (`partial` until its last).
   */
  *pieces(afterId: number, options: HistoryOptions): Generator<HistoryPiece & { bytes: Buffer }> {
    const cache: BlockCache = { index: -1, data: EMPTY };
    let parts: Buffer[] = [];
    let size = 0;
    let complete = Math.max(0, afterId);
    let terminal = false;
    const piece = (partial: boolean) => {
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      parts = [];
      size = 0;
      return { bytes, lastId: complete, partial, terminal };
    };
    for (let index = Math.max(0, afterId); index < this.types.length; index++) {
      if (!options.deltas && this.types[index] === 'model.delta') continue;
      const end = this.offsets[index + 1]!;
      let at = this.offsets[index]!;
      if (size > 0 && size + (end - at) > options.pieceBytes) yield piece(false);
      while (at < end) {
        const take = Math.min(end - at, options.pieceBytes - size);
        for (const part of this.range(at, at + take, cache)) parts.push(part);
        size += take;
        at += take;
        if (at < end) yield piece(true);
      }
      complete = index + 1;
      terminal = TERMINAL_EVENTS.has(this.types[index]!);
    }
    if (size > 0) yield piece(false);
  }

  /** Views of the joined bytes from `start` to `end`, inflating the blocks they lie in (one kept). */
  private *range(start: number, end: number, cache: BlockCache): Generator<Buffer> {
    let at = start;
    while (at < end) {
      const index = Math.floor(at / PACKED_BLOCK_BYTES);
      if (cache.index !== index) {
        cache.index = index;
        cache.data = inflateRawSync(this.blocks[index]!);
      }
      const from = at - index * PACKED_BLOCK_BYTES;
      const take = Math.min(end - at, cache.data.length - from);
      yield cache.data.subarray(from, from + take);
      at += take;
    }
  }
}

interface BlockCache {
  index: number;
  data: Buffer;
}

const EMPTY = Buffer.alloc(0);
