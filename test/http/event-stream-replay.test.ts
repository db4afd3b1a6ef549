/**
 * Replaying a large finished analysis to many readers that stop reading: each
 * reader's history is written a bounded piece at a time, paced by the reader,
 * so what the server buffers per reader stays within a piece and a socket's
 * high-water mark (the history itself is megabytes: larger than what the
 * kernel's socket buffers absorb). Past MAX_SUBSCRIBERS_PER_ANALYSIS, a `429`.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HISTORY_PIECE_BYTES } from '../../src/analyses/store/history.js';
import { json, STORES, startApp, type TestApp } from '../support/app.js';
import { type FakeUpstream, startFakeOpenAI } from '../support/fake-openai.js';
import { type PausedStream, parseEvents, pausedStream, readStream, TERMINAL } from '../support/sse.js';
import { upstreamProvider } from '../support/upstream-models.js';

const READERS = 8;
/** About 600 KB per answer: three stages' deltas, model.completed and the final record make about 6 MB. */
const ANSWER = 'lorem ipsum dolor sit amet '.repeat(22_000);

describe.each(STORES)('replaying a large finished analysis ($name store)', ({ env }) => {
  let fake: FakeUpstream;
  let app: TestApp;
  const sockets = new Map<number, Socket>();

  beforeAll(async () => {
    fake = await startFakeOpenAI({ text: ANSWER, chunks: 32 });
    app = await startApp({
      env: { ...env, MAX_SUBSCRIBERS_PER_ANALYSIS: String(READERS) },
      providers: [upstreamProvider(fake, ['m1'])],
    });
    // The server's side of every connection, by the client's port.
    app.app.server.on('connection', (socket: Socket) => sockets.set(socket.remotePort!, socket));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  /** A finished analysis whose history is megabytes. */
  async function largeAnalysis(): Promise<{ id: string; url: string }> {
    const created = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify({ prompt: 'Write at length.', models: ['up/m1'] }),
    });
    expect(created.status).toBe(200);
    const { id } = await json<{ id: string }>(created);
    return { id, url: `${app.url}/v1/analyses/${id}/events` };
  }

  /** Resolves once the server holds bytes for every reader: the kernel's buffers are full, the replay waits. */
  async function stalled(readers: PausedStream[]): Promise<Socket[]> {
    const serverSide = readers.map((reader) => sockets.get(reader.localPort)!);
    await vi.waitFor(() => expect(serverSide.every((socket) => socket.writableLength > 0)).toBe(true), {
      timeout: 20_000,
      interval: 5,
    });
    return serverSide;
  }

  it('holds at most a piece per paused reader, gives each the whole history once it reads, and refuses one reader too many', async () => {
    const { url } = await largeAnalysis();
    const history = (await readStream(url)).events;
    expect(history.at(-1)!.event).toBe('analysis.completed');
    const historyBytes = history.reduce((sum, event) => sum + JSON.stringify(event.data).length, 0);
    expect(historyBytes).toBeGreaterThan(5_000_000);

    const readers = await Promise.all(Array.from({ length: READERS }, () => pausedStream(url)));
    // Once the kernel's buffers are full, what is left waits in the server: at most one piece past the mark.
    const serverSide = await stalled(readers);
    const bound = HISTORY_PIECE_BYTES + serverSide[0]!.writableHighWaterMark;
    let most = 0;
    for (let turn = 0; turn < 20; turn++) {
      for (const socket of serverSide) most = Math.max(most, socket.writableLength);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(bound);

    // One more stream of the same analysis is past MAX_SUBSCRIBERS_PER_ANALYSIS.
    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const problem = await json<{ status: number; detail: string }>(refused);
    expect(problem.status).toBe(429);
    expect(problem.detail).toContain(`MAX_SUBSCRIBERS_PER_ANALYSIS=${READERS}`);

    // Reading on, every reader gets the very history, ended after the terminal event.
    for (const result of await Promise.all(readers.map((reader) => reader.resume()))) {
      expect(result.status).toBe(200);
      const events = parseEvents(result.text);
      expect(events).toEqual(history);
      expect(events.filter((event) => TERMINAL.has(event.event))).toHaveLength(1);
    }
    // The streams are counted out as they end: a new reader is welcome again.
    await vi.waitFor(async () => expect((await readStream(url)).status).toBe(200));
  });
});
