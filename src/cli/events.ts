import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ChorusClient } from './client.js';
import { CliError, EXIT } from './errors.js';

/** One event of an analysis's stream: its type and its parsed data. */
export interface StreamEvent {
  id: number;
  type: string;
  data: Record<string, unknown>;
}

const TERMINAL = new Set(['analysis.completed', 'analysis.failed', 'analysis.cancelled']);

/**
 * Reads an analysis's Server-Sent Events until its terminal event. A dropped
 * connection is resumed with `Last-Event-ID`, so nothing is lost or repeated.
 */
export async function* analysisEvents(client: ChorusClient, eventsPath: string): AsyncGenerator<StreamEvent> {
  let lastId = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const response = await client.fetch(eventsPath, {
      headers: client.headers({
        accept: 'text/event-stream',
        ...(lastId > 0 ? { 'last-event-id': String(lastId) } : {}),
      }),
    });
    if (response.status === 204) return;
    if (!response.ok || !response.body) {
      throw new CliError(
        `The event stream answered ${response.status}.`,
        response.status >= 500 ? EXIT.serverError : EXIT.refused,
      );
    }
    const queue: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (message) => queue.push(message) });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      while (queue.length > 0) {
        const message = queue.shift()!;
        const type = message.event ?? 'message';
        const data = JSON.parse(message.data) as Record<string, unknown>;
        if (type === 'error')
          throw new CliError(String(data.detail ?? 'the analysis disappeared'), EXIT.refused);
        if (message.id) lastId = Number(message.id);
        yield { id: lastId, type, data };
        if (TERMINAL.has(type)) return;
      }
    }
  }
  throw new CliError(
    'The event stream kept closing before the analysis ended.',
    EXIT.serverError,
    'Check the server log.',
  );
}
