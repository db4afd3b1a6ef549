import { describe, expect, it } from 'vitest';
import type { AnalysisEventPayload } from '../../src/analyses/events.js';
import { LoggedEvent } from '../../src/analyses/events.js';
import { PackedLog } from '../../src/analyses/store/packed-log.js';

describe('packed event logs', () => {
  it('read back the very frames they packed, from every position, non-ASCII text included', () => {
    const payloads: AnalysisEventPayload[] = [
      { type: 'analysis.queued', data: {} },
      { type: 'model.delta', data: { stage: 'answer', model: 'm', attempt: 1, text: 'Zürich – 東京 ' } },
      { type: 'model.delta', data: { stage: 'answer', model: 'm', attempt: 1, text: 'and "more"\n' } },
      { type: 'analysis.cancelled', data: {} },
    ];
    const events = payloads.map(
      (payload, index) => new LoggedEvent(index + 1, 'an_p', payload, 1_700_000_000_000 + index),
    );
    const log = new PackedLog(events);
    for (let after = 0; after <= events.length; after++) {
      expect(log.read(after)).toEqual(
        events.slice(after).map((event) => ({ id: event.id, type: event.type, frame: event.frame })),
      );
    }
    expect(log.read(-5)).toHaveLength(events.length);
  });

  it('stream back in bounded pieces, block by block, that add up to the very frames', () => {
    // About 400 KB over several 64 KB blocks: small frames, non-ASCII text, and frames larger than a piece.
    const payloads: AnalysisEventPayload[] = [{ type: 'analysis.queued', data: {} }];
    for (let index = 0; index < 300; index++) {
      const text = index % 50 === 7 ? 'Zürich 東京 '.repeat(3000) : `word ${index} `.repeat(60);
      payloads.push({ type: 'model.delta', data: { stage: 's', model: 'm', attempt: 1, text } });
      if (index % 30 === 0)
        payloads.push({
          type: 'progress',
          data: { stage: 's', progress: index / 300, message: 'on', details: {} },
        });
    }
    payloads.push({ type: 'analysis.failed', data: { error: { code: 'internal', message: 'x' } } });
    const events = payloads.map(
      (payload, index) => new LoggedEvent(index + 1, 'an_p', payload, 1_700_000_000_000 + index),
    );
    const log = new PackedLog(events);
    const pieceBytes = 16 * 1024;
    for (const [after, deltas] of [
      [0, true],
      [0, false],
      [123, true],
      [events.length - 1, false],
    ] as const) {
      const wanted = events.slice(after).filter((event) => deltas || event.type !== 'model.delta');
      const pieces = [...log.pieces(after, { deltas, pieceBytes })];
      for (const piece of pieces) expect(piece.bytes.length).toBeLessThanOrEqual(pieceBytes);
      expect(Buffer.concat(pieces.map((piece) => piece.bytes)).toString('utf8')).toBe(
        wanted.map((event) => event.frame).join(''),
      );
      // A piece stops inside a frame only when that frame is larger than a piece.
      const whole = pieces.filter((piece) => !piece.partial).map((piece) => piece.lastId);
      expect(whole.at(-1)).toBe(events.length);
      expect(pieces.at(-1)!.terminal).toBe(true);
      expect(pieces.filter((piece) => piece.terminal)).toHaveLength(1);
      const partialIds = new Set(pieces.filter((piece) => piece.partial).map((piece) => piece.lastId + 1));
      for (const id of partialIds)
        expect(Buffer.byteLength(events[id - 1]!.frame)).toBeGreaterThan(pieceBytes);
    }
    expect(log.read(0).map((event) => event.frame)).toEqual(events.map((event) => event.frame));
    // Deflated block by block, the log still holds a fraction of its text.
    const text = events.reduce((sum, event) => sum + Buffer.byteLength(event.frame), 0);
    expect(log.heldBytes).toBeLessThan(text / 5);
  });
});
