import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys } from '../support/app.js';
import { readStream, TERMINAL } from '../support/sse.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `mp-${process.pid}-${Date.now()}`;
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'chorus-mp-'));
const modelsFile = join(dir, 'models.yaml');
writeFileSync(
  modelsFile,
  'providers:\n  - name: sim\n    kind: sim\n    models:\n      - { id: a, weight: 3, latencyMs: 1200 }\n      - { id: b, weight: 2, latencyMs: 1200 }\n      - { id: c, weight: 1, latencyMs: 1200 }\n',
);

/** One Chorus process (the real server entry point) on its own port. */
async function startProcess(role: 'api' | 'worker'): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      STORE: 'redis',
      REDIS_URL,
      REDIS_PREFIX: prefix,
      ROLE: role,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      MODELS_FILE: modelsFile,
      STREAM_TOKEN_SECRET: 'multi-process-test-secret',
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_CHECK_MS: '1000',
      SHUTDOWN_GRACE_MS: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; tries < 200; tries++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, child };
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${role} process did not become ready`);
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await deleteKeys(REDIS_URL, `${prefix}:*`);
});

describe('scale-out on Redis: two API processes, two workers', () => {
  it('streams from another instance, survives kill -9 of a worker, and loses no event', async () => {
    const [api1, api2, worker1] = await Promise.all([
      startProcess('api'),
      startProcess('api'),
      startProcess('worker'),
    ]);
    await startProcess('worker');
    const ids: string[] = [];
    for (let index = 0; index < 6; index++) {
      const answer = await fetch(`${api1.url}/v1/analyses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `Scale-out question ${index}` }),
      });
      expect(answer.status).toBe(202);
      ids.push(((await answer.json()) as { id: string }).id);
    }
    // Once the analyses are under way, one worker dies without a word.
    await readStream(`${api2.url}/v1/analyses/${ids[0]}/events`, {
      until: (event) => event.event === 'model.started',
    });
    worker1.child.kill('SIGKILL');

    const streams = await Promise.all(
      ids.map((id) => readStream(`${api2.url}/v1/analyses/${id}/events?deltas=false`)),
    );
    for (const [position, stream] of streams.entries()) {
      const events = stream.events;
      expect(events.at(-1)!.event).toBe('analysis.completed');
      expect((events.at(-1)!.data as { status: string }).status).toBe('succeeded');
      expect(events.filter((event) => TERMINAL.has(event.event))).toHaveLength(1);
      // The full replay, from the other instance: ids 1..n, none lost, none repeated.
      const replay = await readStream(`${api1.url}/v1/analyses/${ids[position]}/events`);
      expect(replay.events.map((event) => event.id)).toEqual(replay.events.map((_, index) => index + 1));
      expect(replay.events.at(-1)!.event).toBe('analysis.completed');
    }
    const resumed = streams.filter((stream) =>
      stream.events.some((event) => event.event === 'analysis.resumed'),
    );
    expect(resumed.length).toBeGreaterThan(0);
  }, 90_000);

  it('a restart of every process loses no accepted analysis', async () => {
    const api = await startProcess('api');
    const worker = await startProcess('worker');
    const ids: string[] = [];
    for (let index = 0; index < 4; index++) {
      const answer = await fetch(`${api.url}/v1/analyses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `Restart question ${index}` }),
      });
      ids.push(((await answer.json()) as { id: string }).id);
    }
    await readStream(`${api.url}/v1/analyses/${ids[0]}/events`, {
      until: (event) => event.event === 'model.started',
    });
    const stopped = [api.child, worker.child].map(
      (child) => new Promise((resolve) => child.once('exit', resolve)),
    );
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    await Promise.all(stopped);

    const [api2] = await Promise.all([startProcess('api'), startProcess('worker')]);
    for (const id of ids) {
      const stream = await readStream(`${api2.url}/v1/analyses/${id}/events?deltas=false`);
      expect(stream.events.at(-1)!.event).toBe('analysis.completed');
      const record = (await (await fetch(`${api2.url}/v1/analyses/${id}`)).json()) as { status: string };
      expect(record.status).toBe('succeeded');
    }
  }, 90_000);
});
