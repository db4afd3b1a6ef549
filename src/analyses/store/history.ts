import { type StoredEvent, TERMINAL_EVENTS } from '../../domain/analysis.js';
import type { HistoryOptions, HistoryPiece } from './store.js';

/** What a replay writes at once, about: a few frames, never a whole large history. */
export const HISTORY_PIECE_BYTES = 16 * 1024;

/**
 * Groups whole frames into pieces of about `pieceBytes` (a frame larger than
 * that is a piece of its own: the frame is held already, and writing it in
 * parts would not free it any sooner).
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
    if (size > 0 && size + frame.length > options.pieceBytes) {
      yield { bytes: frames.join(''), lastId, partial: false, terminal };
      frames = [];
      size = 0;
    }
    frames.push(frame);
    size += frame.length;
    lastId = event.id;
    terminal = TERMINAL_EVENTS.has(event.type);
  }
  if (size > 0) yield { bytes: frames.join(''), lastId, partial: false, terminal };
}
