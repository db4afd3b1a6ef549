import { describe, expect, it } from 'vitest';
import { LoggedEvent } from '../../src/analyses/events.js';

describe('logged events', () => {
  it('build their SSE frame on first read, stamped with the time they were appended', () => {
    const appendedAt = Date.UTC(2026, 10, 29, 6, 30, 0, 125);
    const event = new LoggedEvent(
      7,
      'an_x',
      { type: 'model.delta', data: { stage: 'answer', model: 'm', attempt: 1, text: 'Hi\n"there"' } },
      appendedAt,
    );
    expect(event.type).toBe('model.delta');
    const frame = event.frame;
    expect(frame.startsWith('id: 7\nevent: model.delta\ndata: ')).toBe(true);
    expect(frame.endsWith('\n\n')).toBe(true);
    expect(JSON.parse(frame.slice(frame.indexOf('data: ') + 6))).toEqual({
      analysisId: 'an_x',
      timestamp: '2026-11-29T06:30:00.125Z',
      stage: 'answer',
      model: 'm',
      attempt: 1,
      text: 'Hi\n"there"',
    });
    expect(event.frame).toBe(frame);
  });
});
