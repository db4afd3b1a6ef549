import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { RETRY_DELAYS_MS } from '../../src/analyses/webhooks/schedule.js';
import { STORES, type TestApp } from '../support/app.js';
import { type FakeReceiver, startReceiver } from '../support/fake-receiver.js';
import { deliveriesOf, getRecord, manualTimers, SECRET, submitted, webhookApp } from './support.js';

let app: TestApp | undefined;
let receiver: FakeReceiver | undefined;

afterEach(async () => {
  await app?.close();
  await receiver?.close();
  app = undefined;
  receiver = undefined;
});

describe.each(STORES)('webhooks on the $name store', ({ name }) => {
  it('posts the final record, signed as Standard Webhooks says, and shows the delivery in the record', async () => {
    receiver = await startReceiver([], 204);
    app = await webhookApp(name);
    const id = await submitted(app, receiver.url);
    const [delivery] = await deliveriesOf(app, id, 1);
    expect(delivery).toMatchObject({ attempt: 1, status: 204, error: null });
    expect(receiver.received).toHaveLength(1);
    const { headers, body } = receiver.received[0]!;
    const verified = new Webhook(SECRET).verify(body, headers as Record<string, string>) as {
      type: string;
      timestamp: string;
      data: { id: string; status: string; result: { text: string } };
    };
    expect(verified.type).toBe('analysis.completed');
    expect(verified.data).toMatchObject({ id, status: 'succeeded' });
    expect(verified.data.result.text.length).toBeGreaterThan(0);
    expect(headers['webhook-id']).toBe(`msg_${id}`);
    // Another secret does not verify it: the signature is real.
    const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    expect(() => other.verify(body, headers as Record<string, string>)).toThrow();
    const record = await getRecord(app, id);
    expect(record.webhook?.url).toBe(receiver.url);
  });

  it('delivers a cancelled analysis as analysis.cancelled', async () => {
    receiver = await startReceiver([], 200);
    app = await webhookApp(name, { providers: [slowSim()] });
    const id = await submitted(app, receiver.url);
    const cancel = await fetch(`${app.url}/v1/analyses/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    await deliveriesOf(app, id, 1);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'analysis.cancelled' });
  });

  it('records a receiver that resets the connection and one that hangs past WEBHOOK_TIMEOUT_MS, then retries', async () => {
    receiver = await startReceiver(['reset', 'hang'], 200);
    const timers = manualTimers();
    app = await webhookApp(name, {
      env: { WEBHOOK_TIMEOUT_MS: '300' },
      webhooks: { setTimer: timers.setTimer, retryDelaysMs: [10, 10] },
    });
    const id = await submitted(app, receiver.url);
    if (name === 'memory') {
      await deliveriesOf(app, id, 1);
      timers.fireNext();
      await deliveriesOf(app, id, 2);
      timers.fireNext();
    }
    const deliveries = await deliveriesOf(app, id, 3);
    expect(deliveries[0]).toMatchObject({ attempt: 1, status: null });
    expect(deliveries[0]!.error).toMatch(/could not be reached/);
    expect(deliveries[1]).toMatchObject({ attempt: 2, status: null });
    expect(deliveries[1]!.error).toMatch(/No answer within 300 ms \(WEBHOOK_TIMEOUT_MS\)/);
    expect(deliveries[2]).toMatchObject({ attempt: 3, status: 200, error: null });
    expect((await getRecord(app, id)).status).toBe('succeeded');
  });

  it('does not follow a redirect: a 3xx is recorded as a failed attempt', async () => {
    const elsewhere = await startReceiver([], 200);
    try {
      receiver = await startReceiver([{ redirect: elsewhere.url }], 200);
      app = await webhookApp(name, {
        webhooks: { setTimer: manualTimers().setTimer, retryDelaysMs: [3_600_000] },
      });
      const id = await submitted(app, receiver.url);
      const [delivery] = await deliveriesOf(app, id, 1);
      expect(delivery).toMatchObject({ attempt: 1, status: 302 });
      expect(delivery!.error).toMatch(/redirects are not followed/);
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('retry spacing (memory store, a clock and timers driven by hand)', () => {
  it('retries a failing receiver after about 5 s, then 30 s, with the same webhook-id', async () => {
    receiver = await startReceiver([500, 503], 200);
    const timers = manualTimers();
    let clock = Date.now();
    app = await webhookApp('memory', { webhooks: { setTimer: timers.setTimer, now: () => clock } });
    const id = await submitted(app, receiver.url);
    await deliveriesOf(app, id, 1);
    clock += timers.fireNext();
    await deliveriesOf(app, id, 2);
    clock += timers.fireNext();
    const deliveries = await deliveriesOf(app, id, 3);
    expect(timers.delays).toEqual([5_000, 30_000]);
    expect(deliveries.map((delivery) => delivery.status)).toEqual([500, 503, 200]);
    const at = deliveries.map((delivery) => Date.parse(delivery.at));
    expect([at[1]! - at[0]!, at[2]! - at[1]!]).toEqual([5_000, 30_000]);
    expect(timers.pending).toBe(0);
    const ids = new Set(receiver.received.map((request) => request.headers['webhook-id']));
    expect(ids).toEqual(new Set([`msg_${id}`]));
    for (const request of receiver.received) {
      expect(() =>
        new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>),
      ).not.toThrow();
    }
  });

  it('keeps retrying, with growing waits, for at least 24 hours', () => {
    expect(RETRY_DELAYS_MS.slice(0, 2)).toEqual([5_000, 30_000]);
    for (let index = 1; index < RETRY_DELAYS_MS.length; index++) {
      expect(RETRY_DELAYS_MS[index]!).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[index - 1]!);
    }
    const total = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 3_600_000);
  });
});

function slowSim() {
  return {
    name: 'sim',
    kind: 'sim' as const,
    timeoutMs: 30_000,
    source: 'test',
    models: ['alpha', 'beta'].map((id) => ({
      id,
      weight: 1,
      inputCostPerMTok: 0,
      outputCostPerMTok: 0,
      tags: [],
      latencyMs: 60_000,
    })),
  };
}
