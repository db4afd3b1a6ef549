/**
 * Reads one analysis's events from its start and then live, in order,
 * nothing lost or repeated: the subscription starts before the history is
 * read, and ids only go up (as the SSE route does).
 */
import type { AnalysisEventPayload, StoredEvent } from '../../analyses/events.js';
import type { AnalysisStore } from '../../analyses/store/store.js';

/** The payload of a stored event: as appended when the store still holds it, else from its frame's `data:` line. */
export function payloadOf(event: StoredEvent): AnalysisEventPayload {
  if (event.payload) return event.payload;
  const start = event.frame.indexOf('\ndata: ') + 7;
  const end = event.frame.indexOf('\n', start);
  return { type: event.type, data: JSON.parse(event.frame.slice(start, end)) } as AnalysisEventPayload;
}

/** Calls `onEvent` with every event of the analysis; answers the unsubscribe function. */
export async function followAnalysis(
  store: AnalysisStore,
  id: string,
  onEvent: (event: AnalysisEventPayload) => void,
  onGone: () => void,
): Promise<() => void> {
  let last = 0;
  let queued: StoredEvent[] | undefined = [];
  const handle = (event: StoredEvent) => {
    if (event.id <= last) return;
    last = event.id;
    onEvent(payloadOf(event));
  };
  const stop = await store.subscribe(id, (event) => (queued ? queued.push(event) : handle(event)), onGone);
  try {
    for (const event of await store.readEvents(id, 0)) handle(event);
  } catch (error) {
    stop();
    throw error;
  }
  const waiting = queued;
  queued = undefined;
  for (const event of waiting) handle(event);
  return stop;
}
