/**
 * Redis outages: every route that needs the store answers a prompt `503`
 * problem with `Retry-After` (not a `500` after seconds of retries), the
 * service comes back by itself with Redis, and an analysis that lost Redis
 * mid-run is resumed and succeeds, logged as a warning rather than an error.
 * Only the Redis store can be away; the memory store has no outage to show.
 * Outages are real: a port with nothing listening, or a TCP proxy in front of
 * the real Redis that is cut, paused and restored.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deleteKeys, json, simModel, simProvider, startApp, type TestApp } from '../support/app.js';
import { freePort } from '../support/server-process.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const open: { apps: TestApp[]; proxies: TcpProxy[] } = { apps: [], proxies: [] };
afterEach(async () => {
  await Promise.all(open.apps.splice(0).map((app) => app.close()));
  await Promise.all(open.proxies.splice(0).map((proxy) => proxy.close()));
});

const REDIS = 'redis://127.0.0.1:6379';

const PATTERN = {
  name: 'outage-check',
  title: 'Outage check',
  description: 'One stage.',
  stages: [{ name: 'only', mode: 'one', template: '{{prompt}}' }],
};

/** Every route that touches the store, as [method, path, body]. */
function storeRoutes(id: string): [string, string, unknown?][] {
  return [
    ['GET', '/readyz'],
    ['GET', '/v1/analyses'],
    ['POST', '/v1/analyses', { prompt: 'Asked while Redis is away.' }],
    ['GET', `/v1/analyses/${id}`],
    ['GET', `/v1/analyses/${id}/events`],
    ['POST', `/v1/analyses/${id}/cancel`],
    ['DELETE', `/v1/analyses/${id}`],
    ['GET', '/v1/patterns'],
    ['POST', '/v1/patterns', PATTERN],
  ];
}

async function expectUnavailable(app: TestApp, routes: [string, string, unknown?][]): Promise<void> {
  for (const [method, path, body] of routes) {
    const answer = await fetch(`${app.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const where = `${method} ${path}`;
    expect(answer.status, where).toBe(503);
    expect(answer.headers.get('content-type'), where).toMatch(/^application\/problem\+json/);
    expect(answer.headers.get('retry-after'), where).toBe('5');
    expect(answer.headers.get('x-request-id'), where).toBeTruthy();
    const problem = await json<{ type: string; detail: string }>(answer);
    expect(problem.type, where).toBe('/problems/service-unavailable');
  }
}

/** An app on Redis at `url`; its keys are removed through the real Redis, whatever the proxy's state. */
async function redisApp(
  url: string,
  env: Record<string, string> = {},
  options: { logger?: pino.Logger; latencyMs?: number } = {},
) {
  const app = await startApp({
    env: { STORE: 'redis', REDIS_URL: url, ...env },
    providers: [simProvider([simModel('alpha', { latencyMs: options.latencyMs ?? 5 })])],
    ...(options.logger ? { logger: options.logger } : {}),
  });
  open.apps.push({
    ...app,
    close: async () => {
      await app.app.close();
      await deleteKeys(REDIS, `${app.config.REDIS_PREFIX}:*`);
    },
  });
  return app;
}

describe('Redis outages (STORE=redis)', () => {
  it('Redis down since boot: the service starts, and every store route answers 503 with Retry-After', async () => {
    const app = await redisApp(`redis://127.0.0.1:${await freePort()}`);
    await expectUnavailable(app, storeRoutes('an_doesnotexist0'));
    // What needs no store still answers.
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.url}/v1/models`)).status).toBe(200);
  });

  it('Redis cut, then back: 503 while it is away, the same analysis readable again once it returns', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    open.proxies.push(proxy);
    const app = await redisApp(proxy.url);
    const done = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify({ prompt: 'Before the outage.' }),
    });
    const record = await json<{ id: string; status: string }>(done);
    expect(record.status).toBe('succeeded');

    proxy.cut();
    await expectUnavailable(app, storeRoutes(record.id));

    proxy.restore();
    await vi.waitFor(async () => expect((await fetch(`${app.url}/readyz`)).status).toBe(200), {
      timeout: 15_000,
      interval: 100,
    });
    const again = await fetch(`${app.url}/v1/analyses/${record.id}`);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ id: record.id, status: 'succeeded' });
  });

  it('Redis frozen (connections open, no answers): a command times out (REDIS_COMMAND_TIMEOUT_MS) into a 503', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    open.proxies.push(proxy);
    const app = await redisApp(proxy.url, { REDIS_COMMAND_TIMEOUT_MS: '100' });
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    proxy.pause();
    await expectUnavailable(app, [
      ['GET', '/readyz'],
      ['GET', '/v1/analyses'],
      ['GET', '/v1/analyses/an_doesnotexist0'],
    ]);
    // Start the connections afresh (what was paused is lost), then Redis is back.
    proxy.cut();
    proxy.restore();
    await vi.waitFor(async () => expect((await fetch(`${app.url}/readyz`)).status).toBe(200), {
      timeout: 15_000,
      interval: 100,
    });
  });

  it('an analysis running when Redis blinks is resumed and succeeds, with a warning and no error line', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    open.proxies.push(proxy);
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const app = await redisApp(
      proxy.url,
      { WORKER_LOCK_MS: '1000', WORKER_STALLED_CHECK_MS: '500' },
      { logger, latencyMs: 1_500 },
    );
    const created = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Running through an outage.' }),
    });
    expect(created.status).toBe(202);
    const { id } = await json<{ id: string }>(created);
    await vi.waitFor(
      async () => {
        const answer = await json<{ status: string }>(await fetch(`${app.url}/v1/analyses/${id}`));
        expect(answer.status).toBe('running');
      },
      { timeout: 10_000, interval: 20 },
    );

    proxy.cut();
    const warning = (line: Record<string, unknown>) =>
      line.level === 40 &&
      line.analysisId === id &&
      /resumes from its last completed stage/.test(String(line.msg));
    await vi.waitFor(() => expect(lines.some(warning)).toBe(true), { timeout: 15_000, interval: 50 });
    proxy.restore();

    await vi.waitFor(
      async () => {
        const answer = await fetch(`${app.url}/v1/analyses/${id}`);
        expect(answer.status).toBe(200);
        expect(await json(answer)).toMatchObject({ status: 'succeeded' });
      },
      { timeout: 30_000, interval: 200 },
    );
    const events = await (await fetch(`${app.url}/v1/analyses/${id}/events`)).text();
    expect(events).toContain('event: analysis.resumed');
    expect(events).toContain('event: analysis.completed');
    const errors = lines.filter((line) => Number(line.level) >= 50 && line.analysisId === id);
    expect(errors).toEqual([]);
    expect(lines.some((line) => /failed unexpectedly/.test(String(line.msg)))).toBe(false);
  }, 60_000);
});
