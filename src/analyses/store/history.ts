import { type StoredEvent, TERMINAL_EVENTS } from '../events.js';
import type { HistoryOptions, HistoryPiece } from './store.js';

/** What a replay writes at once, about: a few frames, never a whole large history. */
export const HISTORY_PIECE_BYTES = 16 * 1024;

/**
 * Groups whole frames into pieces of at most `pieceBytes`; a frame larger than
 * that leaves in slices of its own (views of the frame: no copy of it is made
 * per reader, and the socket takes one slice at a time).
 */
export function* framePieces(
  events: Iterable<StoredEvent>,
  options: HistoryOptions,
): Generator<HistoryPiece, void, undefined> {
  let frames: string[] = [];
  let size = 0;
  let lastId = 0;
  let terminal = false;
  for (const event of events) {
    if (!options.deltas && event.type === 'model.delta') continue;
    const frame = event.frame;
    const bytes = Buffer.byteLength(frame);
    if (size > 0 && size + bytes > options.pieceBytes) {
      yield { bytes: frames.join(''), lastId, partial: false, terminal };
      frames = [];
      size = 0;
    }
    if (bytes > options.pieceBytes) {
      // Characters per slice such that a slice is never over the budget in UTF-8.
      const step = bytes === frame.length ? options.pieceBytes : Math.floor(options.pieceBytes / 3);
      for (let at = 0; at < frame.length; ) {
        let end = Math.min(frame.length, at + step);
        // Never between the halves of a surrogate pair.
        if (end < frame.length && isHighSurrogate(frame.charCodeAt(end - 1))) end--;
        const last = end === frame.length;
        yield {
          bytes: frame.slice(at, end),
          lastId: last ? event.id : lastId,
          partial: !last,
          terminal: last && TERMINAL_EVENTS.has(event.type),
        };
        at = end;
      }
      lastId = event.id;
      terminal = TERMINAL_EVENTS.has(event.type);
      continue;
    }
    frames.push(frame);
    size += bytes;
    lastId = event.id;
    terminal = TERMINAL_EVENTS.has(event.type);
  }
  if (size > 0) yield { bytes: frames.join(''), lastId, partial: false, terminal };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
