import { describe, expect, it } from 'vitest';
import type { AnalysisEventType, StoredEvent } from '../../src/analyses/events.js';
import { eventFrame } from '../../src/analyses/events.js';
import { framePieces } from '../../src/analyses/store/history.js';

function event(id: number, type: AnalysisEventType, text: string): StoredEvent {
  return { id, type, frame: eventFrame(id, type, JSON.stringify({ text })) };
}

describe('history pieces of whole frames (unpacked logs, Redis)', () => {
  it('stay within the piece size in UTF-8, slicing a large frame without splitting a character', () => {
    const events = [
      event(1, 'analysis.queued', ''),
      event(2, 'model.delta', 'small '.repeat(100)),
      event(3, 'model.completed', '😀 Zürich '.repeat(5000)),
      event(4, 'model.delta', 'small again'),
      event(5, 'analysis.completed', 'done'),
    ];
    const pieceBytes = 4096;
    const pieces = [...framePieces(events, { deltas: true, pieceBytes })];
    for (const piece of pieces) {
      const text = piece.bytes as string;
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(pieceBytes);
      // No lone surrogate: the text survives UTF-8 unchanged.
      expect(Buffer.from(text).toString('utf8')).toBe(text);
    }
    expect(pieces.map((piece) => piece.bytes).join('')).toBe(events.map((item) => item.frame).join(''));
    expect(pieces.filter((piece) => piece.partial).every((piece) => piece.lastId === 2)).toBe(true);
    expect(pieces.at(-1)).toMatchObject({ lastId: 5, partial: false, terminal: true });
    const noDeltas = [...framePieces(events, { deltas: false, pieceBytes })]
      .map((piece) => piece.bytes)
      .join('');
    expect(noDeltas).not.toContain('event: model.delta');
  });
});
