import { once } from 'node:events';
import { connect } from 'node:net';
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

/** The events of a whole SSE text (`error` events included: their data is JSON too). */
export function parseEvents(text: string): ReceivedEvent[] {
  const events: ReceivedEvent[] = [];
  const parser = createParser({
    onEvent: (message) =>
      events.push({
        id: Number(message.id),
        event: message.event ?? 'message',
        data: JSON.parse(message.data) as Record<string, unknown>,
      }),
  });
  parser.feed(text);
  return events;
}

export interface PausedStream {
  /** The client's port: the server's socket for this stream has it as its remote port. */
  localPort: number;
  /** Reads on until the server closes the stream: the status line and the SSE text. */
  resume(): Promise<{ status: number; text: string }>;
  destroy(): void;
}

/**
 * A client that asks for an event stream over a bare socket and stops reading
 * once the first bytes arrive, as a hostile or stalled reader would. HTTP/1.0,
 * so the body is the SSE text itself, ended by the server closing.
 */
export async function pausedStream(url: string, headers: Record<string, string> = {}): Promise<PausedStream> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const parts: Buffer[] = [];
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  socket.on('data', (data: Buffer) => parts.push(data));
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(
    `GET ${pathname}${search} HTTP/1.0\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n${extra.join('')}\r\n`,
  );
  await once(socket, 'data');
  socket.pause();
  return {
    localPort: socket.localPort!,
    async resume() {
      socket.resume();
      await ended;
      const all = Buffer.concat(parts);
      const end = all.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(all.subarray(0, end).toString('latin1'))?.[1]);
      return { status, text: all.subarray(end + 4).toString('utf8') };
    },
    destroy: () => socket.destroy(),
  };
}
