import type { EngineEvent } from '../orchestration/events.js';
import type { AnalysisRecord, JobErrorInfo } from './record.js';

/** The events of the job around the engine's: its start, a takeover, its end. */
export type JobEvent =
  | { type: 'analysis.queued'; data: Record<string, never> }
  | { type: 'analysis.started'; data: { pattern: string; models: string[]; synthesisModel: string } }
  | { type: 'analysis.resumed'; data: { fromStage: string; reason: string } }
  | { type: 'analysis.completed'; data: AnalysisRecord }
  | { type: 'analysis.failed'; data: { error: JobErrorInfo } }
  | { type: 'analysis.cancelled'; data: Record<string, never> };

/** The contract's events; `analysisId` and `timestamp` are added when the event is stored. */
export type AnalysisEventPayload = EngineEvent | JobEvent;

export type AnalysisEventType = AnalysisEventPayload['type'];

export const TERMINAL_EVENTS: ReadonlySet<AnalysisEventType> = new Set([
  'analysis.completed',
  'analysis.failed',
  'analysis.cancelled',
]);

/** An event as stored: its SSE frame is serialized once, however many subscribers read it. */
export interface StoredEvent {
  id: number;
  type: AnalysisEventType;
  /** The complete SSE frame: `id: …\nevent: …\ndata: …\n\n`. */
  frame: string;
  /**
   * The event itself, while a store in this process still holds it (memory,
   * before its frame is built): an in-process reader need not parse the
   * frame. Read-only: it is what was appended.
   */
  readonly payload?: AnalysisEventPayload | undefined;
}

/**
 * The `data:` line of an event: one line of JSON (JSON.stringify never emits
 * raw newlines) carrying `analysisId` and `timestamp` first.
 */
export function eventDataLine(analysisId: string, event: AnalysisEventPayload, timestamp: string): string {
  const head = `{"analysisId":${JSON.stringify(analysisId)},"timestamp":"${timestamp}"`;
  const body = JSON.stringify(event.data);
  return body.length > 2 ? `${head},${body.slice(1)}` : `${head}}`;
}

/** The SSE frame around a data line (the Redis append script writes the same shape). */
export function eventFrame(id: number, type: AnalysisEventType, dataLine: string): string {
  return `id: ${id}\nevent: ${type}\ndata: ${dataLine}\n\n`;
}

/**
 * A logged event whose SSE frame is built when something first reads it (a
 * live subscriber, a replay, packing), then kept. An analysis that only a
 * waiting client watches builds none of its frames before the answer goes
 * out; they are built once, when the finished log is packed. The payload is
 * held until then, so what is appended must not change afterwards (events
 * carry fresh objects, and the terminal record is never written again).
 */
export class LoggedEvent implements StoredEvent {
  readonly type: AnalysisEventType;
  #frame: string | undefined;
  #analysisId: string;
  #payload: AnalysisEventPayload | undefined;
  #at: number;

  constructor(
    readonly id: number,
    analysisId: string,
    payload: AnalysisEventPayload,
    /** When it was appended, epoch milliseconds. */
    at: number,
  ) {
    this.type = payload.type;
    this.#analysisId = analysisId;
    this.#payload = payload;
    this.#at = at;
  }

  get payload(): AnalysisEventPayload | undefined {
    return this.#payload;
  }

  get frame(): string {
    if (this.#frame === undefined) {
      const dataLine = eventDataLine(this.#analysisId, this.#payload!, new Date(this.#at).toISOString());
      this.#frame = eventFrame(this.id, this.type, dataLine);
      this.#payload = undefined;
    }
    return this.#frame;
  }
}
