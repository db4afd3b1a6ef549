import type { AnalysisEventPayload } from './events.js';

/** The SSE frame around an event's data: `id:`, `event:`, `analysisId` and `timestamp`. */
const FRAME_OVERHEAD_BYTES = 120;

/** The default of MAX_ANALYSIS_EVENT_BYTES. */
export const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

export function deltasLeftOutWarning(maxBytes: number): string {
  return `This analysis's events passed ${maxBytes} bytes (MAX_ANALYSIS_EVENT_BYTES): later model.delta events were neither stored nor streamed. Every model's full text is still in its model.completed event and in the record.`;
}

/** Whether an event is stored: `first-left-out` is the first delta past the budget. */
export type BudgetVerdict = 'kept' | 'left-out' | 'first-left-out';

/**
 * The byte budget of one analysis's event log. Model deltas are a running
 * copy of text that `model.completed` carries whole, so they are what gives
 * way: once the log holds `maxBytes`, further deltas are left out (not
 * stored, not streamed). Every other event is kept, so the record, the replay
 * and the terminal event stay complete; those events are bounded by the
 * models' own output limits. The job log says so with an event of its own
 * when the first delta is left out, so the record's warning is a reduction too.
 */
export function eventBudget(maxBytes = DEFAULT_MAX_EVENT_BYTES) {
  let bytes = 0;
  let leavingOut = false;
  return {
    admits(event: AnalysisEventPayload): BudgetVerdict {
      // The terminal event ends the log: nothing is decided after it.
      if (event.type === 'analysis.completed') return 'kept';
      const size = Buffer.byteLength(JSON.stringify(event.data)) + FRAME_OVERHEAD_BYTES;
      if (event.type === 'model.delta' && bytes + size > maxBytes) {
        if (leavingOut) return 'left-out';
        leavingOut = true;
        return 'first-left-out';
      }
      bytes += size;
      return 'kept';
    },
  };
}
