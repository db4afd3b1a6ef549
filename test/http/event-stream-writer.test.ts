/**
 * The event stream writer on a real `node:http` server and real sockets: what
 * several subscribers get when one turn carries events some of them leave out,
 * and what happens to a subscriber that stops reading.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AnalysisEventType, eventFrame, type StoredEvent } from '../../src/analyses/events.js';
import { HISTORY_PIECE_BYTES } from '../../src/analyses/store/history.js';
import { PackedLog } from '../../src/analyses/store/packed-log.js';
import type { HistoryPiece } from '../../src/analyses/store/store.js';
import { EventStreamWriter } from '../../src/http/event-stream-writer.js';
import { parseEvents, readStream } from '../support/sse.js';

function event(id: number, type: AnalysisEventType, data: Record<string, unknown> = {}): StoredEvent {
  return { id, type, frame: eventFrame(id, type, JSON.stringify({ n: id, ...data })) };
}

interface Subscriber {
  writer: EventStreamWriter;
  res: ServerResponse;
  tooSlow: boolean;
  closed: boolean;
}

async function* noHistory(): AsyncGenerator<HistoryPiece> {}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/**
 * A server whose every request becomes a subscriber (`?deltas=false`, `?max=N` bytes buffered at most,
 * `?after=N` as its Last-Event-ID), replaying `history` first.
 */
async function startServer(
  onSubscriber: (subscriber: Subscriber) => void,
  history: () => AsyncIterable<HistoryPiece> = noHistory,
): Promise<string> {
  server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('retry: 1000\n\n');
    const subscriber: Subscriber = {
      res,
      tooSlow: false,
      closed: false,
      writer: new EventStreamWriter(res, {
        after: Number(query.get('after') ?? 0),
        deltas: query.get('deltas') !== 'false',
        maxBufferedBytes: Number(query.get('max') ?? 1 << 20),
        onTooSlow: () => {
          subscriber.tooSlow = true;
        },
        onClose: () => {
          subscriber.closed = true;
        },
      }),
    };
    res.on('close', () => subscriber.writer.abandon());
    // Live events flow once the history is out.
    void subscriber.writer.replay(history());
    onSubscriber(subscriber);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

/** A server, and its first `count` subscribers once they have all connected. */
async function startServerFor(
  count: number,
  history?: () => AsyncIterable<HistoryPiece>,
): Promise<{ url: string; connected: Promise<Subscriber[]> }> {
  const subscribers: Subscriber[] = [];
  let allConnected: (subscribers: Subscriber[]) => void = () => {};
  const connected = new Promise<Subscriber[]>((resolve) => {
    allConnected = resolve;
  });
  const url = await startServer((subscriber) => {
    subscribers.push(subscriber);
    if (subscribers.length === count) allConnected(subscribers);
  }, history);
  return { url, connected };
}

describe('the event stream writer', () => {
  it('gives subscribers with and without deltas their own events when one turn carries both kinds', async () => {
    const { url, connected } = await startServerFor(4);
    const streams = [
      readStream(url),
      readStream(`${url}/?deltas=false`),
      readStream(url),
      readStream(`${url}/?deltas=false`),
    ];
    const subscribers = await connected;
    const log = [
      event(1, 'model.started'),
      event(2, 'model.delta', { text: 'a' }),
      event(3, 'model.delta', { text: 'b' }),
      event(4, 'model.completed'),
      event(5, 'analysis.completed'),
    ];
    // One turn: every subscriber queues the same run of events, then they go out together.
    for (const item of log) for (const subscriber of subscribers) subscriber.writer.push(item);

    const [all1, none1, all2, none2] = await Promise.all(streams);
    const types = (stream: Awaited<(typeof streams)[number]>) =>
      stream.events.map((received) => [received.id, received.event]);
    const everything = log.map((item) => [item.id, item.type]);
    const withoutDeltas = everything.filter(([, type]) => type !== 'model.delta');
    expect(types(all1!)).toEqual(everything);
    expect(types(all2!)).toEqual(everything);
    expect(types(none1!)).toEqual(withoutDeltas);
    expect(types(none2!)).toEqual(withoutDeltas);
    expect(subscribers.every((subscriber) => subscriber.closed && !subscriber.tooSlow)).toBe(true);
  });

  it('skips what a subscriber already has, and writes nothing after the terminal event', async () => {
    const { url, connected } = await startServerFor(1);
    const stream = readStream(url);
    const [subscriber] = (await connected) as [Subscriber];
    const writer = subscriber.writer;
    writer.push(event(1, 'analysis.started'));
    writer.push(event(1, 'analysis.started'));
    writer.push(event(2, 'progress'));
    await new Promise((resolve) => setImmediate(resolve));
    writer.push(event(2, 'progress'));
    writer.push(event(3, 'analysis.failed'));
    writer.push(event(4, 'progress'));
    expect((await stream).events.map((received) => received.id)).toEqual([1, 2, 3]);
    expect(subscriber.closed).toBe(true);
  });

  it('drops a subscriber whose write fails and still delivers to the others', async () => {
    const { url, connected } = await startServerFor(3);
    const streams = [readStream(url), readStream(url), readStream(url)].map((stream) =>
      stream.then(
        (result) => ({ ok: true as const, ids: result.events.map((received) => received.id) }),
        () => ({ ok: false as const, ids: [] }),
      ),
    );
    const subscribers = await connected;
    const broken = subscribers[1]!;
    broken.res.socket!.write = () => {
      throw new Error('simulated write failure');
    };
    for (const item of [event(1, 'analysis.started'), event(2, 'analysis.completed')])
      for (const subscriber of subscribers) subscriber.writer.push(item);
    const [first, second, third] = await Promise.all(streams);
    expect(first).toEqual({ ok: true, ids: [1, 2] });
    expect(third).toEqual({ ok: true, ids: [1, 2] });
    expect(second!.ids).toEqual([]);
    expect(broken.closed).toBe(true);
    expect(broken.res.destroyed).toBe(true);
  });

  it('disconnects a subscriber that stops reading once too much is waiting for it', async () => {
    const { url, connected } = await startServerFor(1);
    // A client that reads the head, then nothing more.
    const { connect } = await import('node:net');
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write('GET /?max=65536 HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.once('data', () => socket.pause());
    const [subscriber] = (await connected) as [Subscriber];
    const big = 'x'.repeat(256 * 1024);
    let id = 0;
    // The kernel's socket buffers take the first megabytes; then the writer's own buffer grows.
    while (!subscriber.closed && id < 200) {
      subscriber.writer.push(event(++id, 'model.delta', { text: big }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(subscriber.tooSlow).toBe(true);
    expect(subscriber.closed).toBe(true);
    // Dropped, not ended: what it left unread is freed with the connection.
    expect(subscriber.res.destroyed).toBe(true);
    socket.destroy();
  });

  it('ends the stream with the terminal event even when the client claims to have seen it', async () => {
    const { url, connected } = await startServerFor(1);
    const stream = readStream(`${url}/?after=10`);
    const [subscriber] = (await connected) as [Subscriber];
    subscriber.writer.push(event(3, 'progress'));
    subscriber.writer.push(event(4, 'analysis.cancelled'));
    expect((await stream).events).toEqual([]);
    expect(subscriber.closed).toBe(true);
  });

  it('paces a replay by the reader, and ends one whose analysis vanished with an error event after whole events', async () => {
    // 8 MB of 4 KB frames and a small terminal event: more than the kernel's socket buffers hold.
    const text = 'y'.repeat(4096);
    const log = new PackedLog(
      Array.from({ length: 2048 }, (_, index) =>
        index === 2047 ? event(index + 1, 'analysis.completed') : event(index + 1, 'model.delta', { text }),
      ),
    );
    const { url, connected } = await startServerFor(1, async function* () {
      yield* log.pieces(0, { deltas: true, pieceBytes: HISTORY_PIECE_BYTES });
    });
    const { connect } = await import('node:net');
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (data: Buffer) => received.push(data));
    const ended = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
    socket.once('data', () => socket.pause());
    const [subscriber] = (await connected) as [Subscriber];
    const response = subscriber.res;
    await vi.waitFor(() => expect(response.writableLength).toBeGreaterThan(0), {
      timeout: 20_000,
      interval: 5,
    });
    for (let turn = 0; turn < 20; turn++) {
      expect(response.writableLength).toBeLessThanOrEqual(
        HISTORY_PIECE_BYTES + response.writableHighWaterMark,
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    subscriber.writer.gone('an_x', 'Analysis an_x no longer exists.');
    socket.resume();
    await ended;
    const all = Buffer.concat(received).toString('utf8');
    const events = parseEvents(all.slice(all.indexOf('\r\n\r\n') + 4));
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data).toMatchObject({
      analysisId: 'an_x',
      status: 404,
      detail: 'Analysis an_x no longer exists.',
    });
    const before = events.slice(0, -1);
    expect(before.length).toBeGreaterThan(100);
    expect(before.length).toBeLessThan(2047);
    expect(before.map((item) => item.id)).toEqual(before.map((_, index) => index + 1));
    expect(before.every((item) => item.event === 'model.delta' && item.data.text === text)).toBe(true);
  });
});
