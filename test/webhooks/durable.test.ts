import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app.js';
import { type FakeReceiver, startReceiver } from '../support/fake-receiver.js';
import { deliveriesOf, SECRET, submitted } from './support.js';

let receiver: FakeReceiver | undefined;
const apps: TestApp[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await receiver?.close();
  receiver = undefined;
});

describe('webhooks in Redis mode', () => {
  it('a retry pending when its process stops is delivered, once, by the process that starts next', async () => {
    receiver = await startReceiver([503], 200);
    const env = {
      STORE: 'redis',
      REDIS_PREFIX: `test-${randomBytes(6).toString('hex')}`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
    };
    // The retry waits in Redis (a BullMQ delayed job) long enough for the first process to go.
    const webhooks = { retryDelaysMs: [1_500] };
    const first = await startApp({ env, webhooks });
    const id = await submitted(first, receiver.url);
    expect(await deliveriesOf(first, id, 1)).toMatchObject([{ attempt: 1, status: 503 }]);
    // Stop the process without removing its keys: the delayed job stays in Redis.
    await first.app.close();
    const second = await startApp({ env, webhooks });
    apps.push(second);
    const deliveries = await deliveriesOf(second, id, 2);
    expect(deliveries.map((delivery) => [delivery.attempt, delivery.status])).toEqual([
      [1, 503],
      [2, 200],
    ]);
    expect(receiver.received).toHaveLength(2);
    expect(new Set(receiver.received.map((request) => request.headers['webhook-id']))).toEqual(
      new Set([`msg_${id}`]),
    );
  });
});
