/**
 * How the event stream reaches many subscribers at once: a turn's events go
 * out as one HTTP/1.1 chunk shared by every subscriber in step, each
 * subscriber still gets exactly its own events (with or without deltas, from
 * its own Last-Event-ID), and a client that speaks HTTP/1.0 gets the same
 * stream unchunked. Read over raw sockets, so the chunk framing itself is
 * checked, not only what a client library makes of it.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_PIECE_BYTES } from '../../src/analyses/store/history.js';
import { json, STORES, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { parseEvents, readStream, TERMINAL } from '../support/sse.js';

interface RawResponse {
  head: string;
  body: Buffer;
}

/** A GET over a bare TCP socket, read until the server closes it or `done` says the body is complete. */
function rawGet(
  url: string,
  version: '1.0' | '1.1',
  done: (body: Buffer) => boolean = () => false,
): Promise<RawResponse> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const parts: Buffer[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      const all = Buffer.concat(parts);
      const end = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, end).toString('latin1'), body: all.subarray(end + 4) });
    };
    socket.on('connect', () => {
      socket.write(
        `GET ${pathname}${search} HTTP/${version}\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`,
      );
    });
    socket.on('data', (data) => {
      parts.push(data);
      const all = Buffer.concat(parts);
      const end = all.indexOf('\r\n\r\n');
      if (end >= 0 && done(all.subarray(end + 4))) finish();
    });
    socket.on('end', finish);
    socket.on('error', reject);
  });
}

/** The chunks of a chunked body, and whether it ended with the zero-size chunk. */
function dechunk(body: Buffer): { chunks: string[]; complete: boolean } {
  const chunks: string[] = [];
  let at = 0;
  while (at < body.length) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0)
      return { chunks, complete: body.subarray(lineEnd, lineEnd + 4).toString() === '\r\n\r\n' };
    const start = lineEnd + 2;
    if (start + size + 2 > body.length) break;
    chunks.push(body.subarray(start, start + size).toString('utf8'));
    expect(body.subarray(start + size, start + size + 2).toString('latin1')).toBe('\r\n');
    at = start + size + 2;
  }
  return { chunks, complete: false };
}

const chunkedBodyComplete = (body: Buffer) => dechunk(body).complete;

describe.each(STORES)('delivering the event stream to many subscribers ($name store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({
      env,
      providers: [
        simProvider([
          simModel('alpha', { weight: 3, latencyMs: 30 }),
          simModel('beta', { weight: 2, latencyMs: 30 }),
          simModel('gamma', { weight: 1, latencyMs: 30 }),
        ]),
      ],
    });
  });
  afterAll(() => app.close());

  async function create(prompt: string) {
    const response = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt }),
    });
    expect(response.status).toBe(202);
    return json<{ id: string }>(response);
  }

  it('gives each of many concurrent subscribers exactly its events: all, without deltas, or after its Last-Event-ID', async () => {
    const { id } = await create('Which of three queue designs fits a small team?');
    const url = `${app.url}/v1/analyses/${id}/events`;
    let resumeFrom = 0;
    let firstCompleted: () => void = () => {};
    const completedSeen = new Promise<void>((resolve) => {
      firstCompleted = resolve;
    });
    const full = Array.from({ length: 12 }, (_, index) =>
      readStream(
        url,
        index === 0
          ? {
              onEvent: (event) => {
                if (event.event === 'model.completed' && resumeFrom === 0) {
                  resumeFrom = event.id;
                  firstCompleted();
                }
              },
            }
          : {},
      ),
    );
    const withoutDeltas = Array.from({ length: 6 }, () => readStream(`${url}?deltas=false`));
    // Late subscribers join mid-run, resuming from an event the others have already had.
    await completedSeen;
    const resumed = Array.from({ length: 6 }, () =>
      readStream(url, { headers: { 'last-event-id': String(resumeFrom) } }),
    );

    const history = (await readStream(url)).events;
    expect(TERMINAL.has(history.at(-1)!.event)).toBe(true);
    expect(history.map((event) => event.id)).toEqual(history.map((_, index) => index + 1));
    for (const stream of await Promise.all(full)) expect(stream.events).toEqual(history);
    const noDeltas = history.filter((event) => event.event !== 'model.delta');
    expect(noDeltas.length).toBeLessThan(history.length);
    for (const stream of await Promise.all(withoutDeltas)) expect(stream.events).toEqual(noDeltas);
    const after = history.filter((event) => event.id > resumeFrom);
    expect(after.length).toBeGreaterThan(0);
    for (const stream of await Promise.all(resumed)) expect(stream.events).toEqual(after);
  });

  it('sends a finished analysis’s history in bounded chunks after the retry line, then ends the chunked body', async () => {
    const { id } = await create('Summarize the trade-offs of feature flags.');
    const url = `${app.url}/v1/analyses/${id}/events`;
    const history = (await readStream(url)).events;

    const raw = await rawGet(url, '1.1', chunkedBodyComplete);
    expect(raw.head).toMatch(/^HTTP\/1\.1 200/);
    expect(raw.head.toLowerCase()).toContain('transfer-encoding: chunked');
    const { chunks, complete } = dechunk(raw.body);
    expect(complete).toBe(true);
    expect(chunks[0]).toBe('retry: 3000\n\n');
    // A history of tens of kilobytes leaves in pieces of HISTORY_PIECE_BYTES at most.
    const pieces = chunks.slice(1);
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(HISTORY_PIECE_BYTES);
    expect(parseEvents(pieces.join(''))).toEqual(history);
  });

  it('streams to an HTTP/1.0 client unchunked, ending when the server closes the connection', async () => {
    const { id } = await create('Is a monorepo worth it for four services?');
    const url = `${app.url}/v1/analyses/${id}/events`;
    const raw = await rawGet(url, '1.0');
    expect(raw.head).toMatch(/^HTTP\/1\.[01] 200/);
    expect(raw.head.toLowerCase()).not.toContain('transfer-encoding');
    const text = raw.body.toString('utf8');
    expect(text.startsWith('retry: 3000\n\n')).toBe(true);
    // Nothing but SSE lines: no chunk sizes, no CRLFs from chunked framing.
    expect(text).not.toContain('\r');
    for (const line of text.split('\n'))
      expect(line).toMatch(/^(|retry: \d+|id: \d+|event: [a-z.]+|data: \{.*\})$/);
    const events = parseEvents(text);
    expect(TERMINAL.has(events.at(-1)!.event)).toBe(true);
    expect(events).toEqual((await readStream(url)).events);
  });
});
