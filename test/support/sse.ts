import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface ReceivedEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

export interface StreamResult {
  status: number;
  headers: Headers;
  events: ReceivedEvent[];
  comments: string[];
  retry: number | undefined;
}

export interface ReadOptions {
  headers?: Record<string, string>;
  /** Stop reading (and close the socket) once this returns true. */
  until?: (event: ReceivedEvent, all: ReceivedEvent[]) => boolean;
  onEvent?: (event: ReceivedEvent) => void;
  onComment?: (comment: string) => void;
  signal?: AbortSignal;
}

/** Reads a Server-Sent Events stream over a real socket until it ends (or `until` says stop). */
export async function readStream(url: string, options: ReadOptions = {}): Promise<StreamResult> {
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...options.headers },
    signal: controller.signal,
  });
  const result: StreamResult = {
    status: response.status,
    headers: response.headers,
    events: [],
    comments: [],
    retry: undefined,
  };
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    return result;
  }
  let stop = false;
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      const event: ReceivedEvent = {
        id: Number(message.id),
        event: message.event ?? 'message',
        data: JSON.parse(message.data) as Record<string, unknown>,
      };
      result.events.push(event);
      options.onEvent?.(event);
      if (options.until?.(event, result.events)) stop = true;
    },
    onRetry(interval) {
      result.retry = interval;
    },
    onComment(comment) {
      result.comments.push(comment);
      options.onComment?.(comment);
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (stop) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    controller.abort();
  }
  return result;
}

export const TERMINAL = new Set(['analysis.completed', 'analysis.failed', 'analysis.cancelled']);
