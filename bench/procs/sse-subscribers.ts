/**
 * The SSE fan-out scenario's subscribers: many event-stream clients in one
 * process (separate from the server under test), each on its own socket.
 * For every event a subscriber receives it records the lag: receive time
 * (`Date.now()` when the bytes arrive) minus the event's own `timestamp`
 * field (ms precision, the same wall clock). Only events stamped at or after
 * `liveFrom` count for lag — earlier ones are history replayed on connect.
 * Every subscriber checks that ids run 1, 2, 3… without a gap or repeat and
 * that the stream ends with a terminal event.
 *
 * IPC: connect({ url, count, batch }) · mark({ liveFrom }) · wait({ timeoutMs }) · reset()
 */
import { Agent, get } from 'node:http';
import { ready, serve } from '../lib/ipc.js';
import { quantileSorted } from '../lib/stats.js';

const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const TERMINAL = new Set(['analysis.completed', 'analysis.failed', 'analysis.cancelled']);
const STAMP = '"timestamp":"';

interface Subscriber {
  received: number;
  nextId: number;
  inOrder: boolean;
  terminal: boolean;
  ended: boolean;
  error: string | undefined;
}

let subscribers: Subscriber[] = [];
let liveFrom = Number.POSITIVE_INFINITY;
let lags: number[] = [];
let lagsByType = new Map<string, number[]>();
let endWaiters: Array<() => void> = [];

function handleFrame(subscriber: Subscriber, frame: string, receivedAt: number): void {
  if (!frame.startsWith('id: ')) return; // retry: line, or a `: ping` comment
  const idEnd = frame.indexOf('\n');
  const id = Number(frame.slice(4, idEnd));
  if (id !== subscriber.nextId) subscriber.inOrder = false;
  subscriber.nextId = id + 1;
  subscriber.received++;
  const typeStart = frame.indexOf('event: ', idEnd) + 7;
  const type = frame.slice(typeStart, frame.indexOf('\n', typeStart));
  if (TERMINAL.has(type)) subscriber.terminal = true;
  const stamp = frame.indexOf(STAMP);
  if (stamp >= 0) {
    const timestamp = Date.parse(frame.slice(stamp + STAMP.length, stamp + STAMP.length + 24));
    if (timestamp >= liveFrom) {
      lags.push(receivedAt - timestamp);
      let list = lagsByType.get(type);
      if (!list) {
        list = [];
        lagsByType.set(type, list);
      }
      list.push(receivedAt - timestamp);
    }
  }
}

function subscribe(url: string): Promise<Subscriber> {
  const subscriber: Subscriber = {
    received: 0,
    nextId: 1,
    inOrder: true,
    terminal: false,
    ended: false,
    error: undefined,
  };
  subscribers.push(subscriber);
  const end = (error?: string) => {
    if (subscriber.ended) return;
    subscriber.ended = true;
    subscriber.error ??= error;
    if (subscribers.every((item) => item.ended)) for (const resolve of endWaiters.splice(0)) resolve();
  };
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        end(`status ${res.statusCode}`);
        res.resume();
        reject(new Error(`subscriber got status ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const receivedAt = Date.now();
        buffer += chunk;
        let boundary = buffer.indexOf('\n\n');
        let start = 0;
        while (boundary >= 0) {
          handleFrame(subscriber, buffer.slice(start, boundary + 1), receivedAt);
          start = boundary + 2;
          boundary = buffer.indexOf('\n\n', start);
        }
        buffer = start > 0 ? buffer.slice(start) : buffer;
      });
      res.on('end', () => end());
      res.on('error', (error) => end(String(error)));
      resolve(subscriber);
    });
    req.on('error', (error) => {
      end(String(error));
      reject(error);
    });
  });
}

serve({
  connect: async ({ url, count, batch }: { url: string; count: number; batch: number }) => {
    const started = performance.now();
    for (let index = 0; index < count; index += batch) {
      const size = Math.min(batch, count - index);
      await Promise.all(Array.from({ length: size }, () => subscribe(url)));
    }
    return { connected: subscribers.length, ms: performance.now() - started };
  },
  mark: ({ liveFrom: from }: { liveFrom: number }) => {
    liveFrom = from;
  },
  wait: async ({ timeoutMs }: { timeoutMs: number }) => {
    if (!subscribers.every((item) => item.ended)) {
      await Promise.race([
        new Promise<void>((resolve) => endWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs)),
      ]);
    }
    const sorted = lags.sort((a, b) => a - b);
    const counts = subscribers.map((item) => item.received);
    return {
      subscribers: subscribers.length,
      ended: subscribers.filter((item) => item.ended).length,
      inOrder: subscribers.every((item) => item.inOrder),
      terminal: subscribers.every((item) => item.terminal),
      errors: subscribers.filter((item) => item.error !== undefined).map((item) => item.error),
      minReceived: Math.min(...counts),
      maxReceived: Math.max(...counts),
      lagSamples: sorted.length,
      lag: {
        p50: quantileSorted(sorted, 0.5),
        p90: quantileSorted(sorted, 0.9),
        p99: quantileSorted(sorted, 0.99),
        max: sorted.at(-1) ?? Number.NaN,
      },
      lagByType: Object.fromEntries(
        [...lagsByType].map(([type, values]) => {
          const ordered = values.sort((a, b) => a - b);
          return [
            type,
            { n: ordered.length, p50: quantileSorted(ordered, 0.5), p99: quantileSorted(ordered, 0.99) },
          ];
        }),
      ),
    };
  },
  reset: () => {
    subscribers = [];
    lags = [];
    lagsByType = new Map();
    endWaiters = [];
    liveFrom = Number.POSITIVE_INFINITY;
  },
});
ready();
