import { randomBytes } from 'node:crypto';
import { vi } from 'vitest';
import type { SetTimer } from '../../src/analyses/webhooks/queues.js';
import type { WebhookDelivery } from '../../src/analyses/webhooks/types.js';
import { json, startApp, type TestApp } from '../support/app.js';

export const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** Timers the local webhook queue sets, fired by hand: the waits they were set for are kept in order. */
export function manualTimers() {
  const pending: Array<{ run: () => void; ms: number }> = [];
  const delays: number[] = [];
  const setTimer: SetTimer = (run, ms) => {
    const timer = { run, ms };
    pending.push(timer);
    delays.push(ms);
    return { cancel: () => pending.splice(pending.indexOf(timer), 1) };
  };
  return {
    setTimer,
    delays,
    /** Fires the oldest pending timer; answers the wait it was set for. */
    fireNext(): number {
      const timer = pending.shift();
      if (!timer) throw new Error('no retry is pending');
      timer.run();
      return timer.ms;
    },
    get pending() {
      return pending.length;
    },
  };
}

export function webhookApp(store: string, options: Parameters<typeof startApp>[0] = {}): Promise<TestApp> {
  return startApp({
    ...options,
    env: { STORE: store, WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true', ...options.env },
  });
}

export async function submit(app: TestApp, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${app.url}/v1/analyses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Should we ship on Friday?', ...body }),
  });
}

export async function submitted(app: TestApp, url: string): Promise<string> {
  const response = await submit(app, { webhook: { url } });
  if (response.status !== 202)
    throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  return (await json<{ id: string }>(response)).id;
}

interface RecordView {
  status: string;
  webhook: { url: string; deliveries: WebhookDelivery[] } | null;
}

export async function getRecord(app: TestApp, id: string): Promise<RecordView> {
  return json<RecordView>(await fetch(`${app.url}/v1/analyses/${id}`));
}

/** The record once its webhook shows `count` attempts. */
export async function deliveriesOf(app: TestApp, id: string, count: number): Promise<WebhookDelivery[]> {
  let found: WebhookDelivery[] = [];
  await vi.waitFor(
    async () => {
      found = (await getRecord(app, id)).webhook?.deliveries ?? [];
      if (found.length < count) throw new Error(`${found.length} of ${count} attempts so far`);
    },
    { timeout: 20_000, interval: 20 },
  );
  return found;
}
