import type { AnalysisEventPayload, AnalysisEventType, StoredEvent } from '../domain/analysis.js';

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

/** Serializes an event into its SSE frame, once, however many subscribers read it. */
export function buildEvent(
  analysisId: string,
  id: number,
  event: AnalysisEventPayload,
  timestamp: string,
): StoredEvent {
  return {
    id,
    type: event.type,
    frame: eventFrame(id, event.type, eventDataLine(analysisId, event, timestamp)),
  };
}
