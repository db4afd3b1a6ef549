/**
 * One trace across processes (Redis): an API process accepts the analysis
 * under the caller's `traceparent`, a worker process runs it, and both export
 * to the same OTLP receiver — the worker's `analysis standard` span is a child
 * of the API's request span.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys } from '../support/app.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/fake-otlp.js';
import { freePort } from '../support/server-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `trace-${process.pid}-${Date.now()}`;
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const children: ChildProcess[] = [];

const dir = mkdtempSync(join(tmpdir(), 'chorus-trace-'));
const modelsFile = join(dir, 'models.yaml');
writeFileSync(
  modelsFile,
  'providers:\n  - name: sim\n    kind: sim\n    models:\n      - { id: a, weight: 2, latencyMs: 5 }\n      - { id: b, weight: 1, latencyMs: 5 }\n',
);

async function startProcess(role: 'api' | 'worker', otlp: OtlpReceiver): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? ROOT,
      HOST: '127.0.0.1',
      PORT: String(port),
      STORE: 'redis',
      REDIS_URL,
      REDIS_PREFIX: prefix,
      ROLE: role,
      LOG_LEVEL: 'warn',
      MODELS_FILE: modelsFile,
      SHUTDOWN_GRACE_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Read by the SDK itself: spans leave within 50 ms, and each process says which it is.
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_RESOURCE_ATTRIBUTES: `chorus.role=${role}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; tries < 300; tries++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return url;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${role} process did not become ready`);
}

/** Waits (bounded) until the receiver holds a span of each name. */
async function spansNamed(otlp: OtlpReceiver, names: string[]): Promise<ReceivedSpan[]> {
  for (let tries = 0; tries < 200; tries++) {
    if (names.every((name) => otlp.spans.some((span) => span.name === name))) return otlp.spans;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`spans never arrived: ${otlp.spans.map((span) => span.name).join(', ')}`);
}

describe('a trace across an API process and a worker process', () => {
  let otlp: OtlpReceiver;
  let api: string;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    [api] = await Promise.all([startProcess('api', otlp), startProcess('worker', otlp)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await otlp.close();
    await deleteKeys(REDIS_URL, `${prefix}:*`);
  });

  it('the worker’s analysis span is a child of the API’s request span, in the caller’s trace', async () => {
    const response = await fetch(`${api}/v1/analyses`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        prefer: 'wait=30',
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
      },
      body: JSON.stringify({ prompt: 'Across processes?' }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('succeeded');
    const spans = await spansNamed(otlp, ['POST /v1/analyses', 'analysis standard', 'stage synthesis']);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([TRACE_ID]));
    const request = spans.find((span) => span.name === 'POST /v1/analyses')!;
    const analysis = spans.find((span) => span.name === 'analysis standard')!;
    expect(request.resource['chorus.role']).toBe('api');
    expect(request.parentSpanId).toBe(CALLER_SPAN);
    expect(analysis.resource['chorus.role']).toBe('worker');
    expect(analysis.parentSpanId).toBe(request.spanId);
    const stages = spans.filter((span) => span.name.startsWith('stage '));
    expect(stages.map((span) => span.name)).toEqual(['stage initial', 'stage meta', 'stage synthesis']);
    for (const stage of stages) {
      expect(stage.parentSpanId).toBe(analysis.spanId);
      expect(stage.resource['chorus.role']).toBe('worker');
    }
    const chats = spans.filter((span) => span.name.startsWith('chat '));
    expect(chats.length).toBe(5); // a and b, twice, then the synthesis
    for (const chat of chats) {
      expect(stages.map((stage) => stage.spanId)).toContain(chat.parentSpanId);
      expect(chat.attributes['gen_ai.provider.name']).toBe('sim');
    }
  }, 60_000);
});
