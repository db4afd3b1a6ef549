/**
 * Graceful shutdown: SIGTERM lets running analyses have their grace, every
 * request in the meantime gets a `503` problem with `Retry-After` and its
 * request id, and a clean drain exits 0 — also when the drain lasts longer
 * than Fastify's default plugin timeout (10 s, the default grace).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ANONYMOUS } from '../../src/http/plugins/auth.js';
import { json, simModel, simProvider, startApp } from '../support/app.js';
import { freePort, spawnServer } from '../support/server-process.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
  requestId: string;
}

function slowModelsFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'chorus-shutdown-')), 'models.yaml');
  writeFileSync(
    path,
    'providers:\n  - name: sim\n    kind: sim\n    models:\n      - { id: slow, latencyMs: 60000 }\n',
  );
  return path;
}

async function expectDraining(url: string, path: string): Promise<void> {
  const answer = await fetch(`${url}${path}`, { headers: { 'x-request-id': 'drain-check-1' } });
  expect(answer.status).toBe(503);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.headers.get('retry-after')).toBe('5');
  expect(answer.headers.get('x-request-id')).toBe('drain-check-1');
  const body = await json<Problem>(answer);
  expect(body).toMatchObject({
    type: '/problems/service-unavailable',
    status: 503,
    requestId: 'drain-check-1',
  });
  expect(body.detail).toMatch(/shutting down/);
}

describe('the server process on SIGTERM', () => {
  it('drains a running analysis for the default grace, answers 503 problems meanwhile, and exits 0', async () => {
    const port = await freePort();
    const server = spawnServer(
      { PORT: String(port), LOG_LEVEL: 'info', MODELS_FILE: slowModelsFile() },
      60_000,
    );
    const url = `http://127.0.0.1:${port}`;
    await server.waitForOutput(/Chorus is serving/);
    const held = fetch(`${url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=60' },
      body: JSON.stringify({ prompt: 'This will not finish before the shutdown.' }),
    });
    await vi.waitFor(
      async () => {
        const page = await json<{ data: unknown[] }>(await fetch(`${url}/v1/analyses?status=running`));
        expect(page.data).toHaveLength(1);
      },
      { timeout: 20_000, interval: 100 },
    );
    server.child.kill('SIGTERM');
    await server.waitForOutput(/shutting down/);
    await expectDraining(url, '/v1/analyses');
    await expectDraining(url, '/readyz');
    // The held request's analysis ends with the shutdown: its final record, failed.
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(await json(answer)).toMatchObject({ status: 'failed', error: { code: 'shutdown' } });
    const exit = await server.exit;
    expect(exit.timedOut).toBe(false);
    expect(exit.stdout).toContain('shut down cleanly');
    expect(exit.stdout).not.toContain('shutdown failed');
    expect(exit.code).toBe(0);
  }, 70_000);
});

describe('app.close() during the grace', () => {
  it('answers every new request with a 503 problem, Retry-After and the request id', async () => {
    const app = await startApp({
      env: { SHUTDOWN_GRACE_MS: '60000' },
      providers: [simProvider([simModel('slow', { latencyMs: 60_000 })])],
    });
    const created = await fetch(`${app.url}/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Running while the service drains.' }),
    });
    const { id } = await json<{ id: string }>(created);
    const closing = app.close();
    try {
      await vi.waitFor(async () => {
        expect((await fetch(`${app.url}/healthz`)).status).toBe(503);
      });
      await expectDraining(app.url, `/v1/analyses/${id}`);
      await expectDraining(app.url, '/no/such/route');
    } finally {
      // Let the drain end now: cancel the analysis it waits for.
      await app.app.chorus.service.cancel(ANONYMOUS, id);
      await closing;
    }
  });
});
