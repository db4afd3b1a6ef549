/**
 * The SSE fan-out baseline: a bare `node:http` server that writes the same
 * frames to every subscriber. It replays the event log Chorus produced in the
 * same run (same ids, types and bytes) on the same schedule: frames stamped
 * before the release are sent on connect (history), the rest at their
 * original offsets from the release, each one re-stamped (`timestamp`, same
 * format and length) when it is written — written to every subscriber in one
 * loop, as Chorus does. The stream ends after the terminal frame.
 *
 * IPC: load({ history: string[], live: { offsetMs, frame }[] }) · start() → { startedAt } · done()
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ready, serve } from '../lib/ipc.js';

const STAMP = '"timestamp":"';
let history: string[] = [];
let live: { offsetMs: number; frame: string }[] = [];
const subscribers = new Set<ServerResponse>();
let finished: Promise<void> = Promise.resolve();

const server = createServer((req, res) => {
  if (req.url?.startsWith('/events')) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    for (const frame of history) res.write(frame);
    subscribers.add(res);
    res.on('close', () => subscribers.delete(res));
    return;
  }
  res.writeHead(404);
  res.end();
});

function stamp(frame: string, now: number): string {
  const at = frame.indexOf(STAMP);
  if (at < 0) return frame;
  const start = at + STAMP.length;
  return `${frame.slice(0, start)}${new Date(now).toISOString()}${frame.slice(start + 24)}`;
}

const sleepUntil = (time: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));

async function play(startedAt: number): Promise<void> {
  for (const { offsetMs, frame } of live) {
    if (Date.now() < startedAt + offsetMs) await sleepUntil(startedAt + offsetMs);
    const stamped = stamp(frame, Date.now());
    for (const res of subscribers) res.write(stamped);
  }
  for (const res of subscribers) res.end();
}

serve({
  load: (args: { history: string[]; live: { offsetMs: number; frame: string }[] }) => {
    history = args.history;
    live = args.live;
    return { history: history.length, live: live.length };
  },
  start: () => {
    const startedAt = Date.now();
    finished = play(startedAt);
    return { startedAt, subscribers: subscribers.size };
  },
  done: async () => {
    await finished;
  },
});

server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  ready({ url: `http://127.0.0.1:${port}/events` });
});
