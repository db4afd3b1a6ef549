import type { AnalysisEventPayload, AnalysisRecord } from '../domain/analysis.js';

/** The SSE frame around an event's data: `id:`, `event:`, `analysisId` and `timestamp`. */
const FRAME_OVERHEAD_BYTES = 120;

/** The default of MAX_ANALYSIS_EVENT_BYTES. */
export const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

export function deltasLeftOutWarning(maxBytes: number): string {
  return `This analysis's events passed ${maxBytes} bytes (MAX_ANALYSIS_EVENT_BYTES): later model.delta events were neither stored nor streamed. Every model's full text is still in its model.completed event and in the record.`;
}

/**
 * The byte budget of one analysis's event log. Model deltas are a running
 * copy of text that `model.completed` carries whole, so they are what gives
 * way: once the log holds `maxBytes`, further deltas are left out (not
 * stored, not streamed) and the record says so in `warnings`. Every other
 * event is kept, so the record, the replay and the terminal event stay
 * complete; those events are bounded by the models' own output limits.
 */
export function eventBudget(record: AnalysisRecord, maxBytes = DEFAULT_MAX_EVENT_BYTES) {
  let bytes = 0;
  let leavingOut = false;
  return {
    /** Counts the event in, or answers false for a delta past the budget. */
    admits(event: AnalysisEventPayload): boolean {
      // The terminal event ends the log: nothing is decided after it.
      if (event.type === 'analysis.completed') return true;
      const size = Buffer.byteLength(JSON.stringify(event.data)) + FRAME_OVERHEAD_BYTES;
      if (event.type === 'model.delta' && bytes + size > maxBytes) {
        if (!leavingOut) {
          leavingOut = true;
          record.warnings.push(deltasLeftOutWarning(maxBytes));
        }
        return false;
      }
      bytes += size;
      return true;
    },
  };
}
