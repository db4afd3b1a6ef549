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
});
