import type { AnalysisEventPayload, StoredEvent } from '../domain/analysis.js';

/**
 * Serializes an event into its SSE frame, once. `data` is one line of JSON
 * (JSON.stringify never emits raw newlines) carrying `analysisId` and
 * `timestamp` first.
 */
export function buildEvent(
  analysisId: string,
  id: number,
  event: AnalysisEventPayload,
  timestamp: string,
): StoredEvent {
  const head = `{"analysisId":${JSON.stringify(analysisId)},"timestamp":"${timestamp}"`;
  const body = JSON.stringify(event.data);
  const data = body.length > 2 ? `${head},${body.slice(1)}` : `${head}}`;
  return { id, type: event.type, frame: `id: ${id}\nevent: ${event.type}\ndata: ${data}\n\n` };
}

/** The JSON `data` of a stored frame (for clients of the store that need the payload back). */
export function eventData(event: StoredEvent): Record<string, unknown> {
  const start = event.frame.indexOf('\ndata: ') + 7;
  return JSON.parse(event.frame.slice(start, event.frame.length - 2)) as Record<string, unknown>;
}
