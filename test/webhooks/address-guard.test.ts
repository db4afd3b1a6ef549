import { afterEach, describe, expect, it } from 'vitest';
import type { Resolver } from '../../src/analyses/webhooks/types.js';
import { json, startApp, type TestApp } from '../support/app.js';
import { type FakeReceiver, startReceiver } from '../support/fake-receiver.js';
import { deliveriesOf, SECRET, submit } from './support.js';

/** DNS played by the test: names to addresses, in turn per lookup when several are listed. */
function fakeDns(table: Record<string, string[]>): Resolver {
  const seen = new Map<string, number>();
  return async (host) => {
    const answers = table[host];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    const turn = seen.get(host) ?? 0;
    seen.set(host, turn + 1);
    const address = answers[Math.min(turn, answers.length - 1)]!;
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
}

let app: TestApp | undefined;
let receiver: FakeReceiver | undefined;

afterEach(async () => {
  await app?.close();
  await receiver?.close();
  app = undefined;
  receiver = undefined;
});

interface Problem {
  status: number;
  detail: string;
  errors: Array<{ path: string; message: string }>;
}

describe('webhook URLs Chorus refuses (422 at /webhook/url)', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['loopback', 'http://127.0.0.1:8080/hook', /127\.0\.0\.1, a loopback address/],
    ['IPv6 loopback', 'http://[::1]:8080/hook', /::1, a loopback address/],
    ['private 10/8', 'http://10.1.2.3/hook', /10\.1\.2\.3, a private address/],
    ['cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data', /linkLocal/],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['a name that resolves to 127.0.0.1', 'http://rebind.test/hook', /rebind\.test resolves to 127\.0\.0\.1/],
    ['another scheme', 'ftp://hooks.example.com/drop', /must use http or https, not ftp/],
    ['not a URL', 'hooks.example.com/drop', /not a valid absolute URL/],
    ['a name that does not resolve', 'https://nowhere.test/hook', /does not resolve/],
  ];

  it.each(refused)('%s', async (_label, url, message) => {
    app = await startApp({
      env: { WEBHOOK_SECRET: SECRET },
      webhooks: { resolve: fakeDns({ 'rebind.test': ['127.0.0.1'] }) },
    });
    const response = await submit(app, { webhook: { url } });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = await json<Problem>(response);
    expect(problem.errors).toEqual([{ path: '/webhook/url', message: expect.stringMatching(message) }]);
    if (!/scheme|URL|resolve/.test(_label)) expect(problem.detail).toMatch(/WEBHOOK_ALLOW_PRIVATE=true/);
  });

  it('accepts a name that resolves to a public address', async () => {
    app = await startApp({
      env: { WEBHOOK_SECRET: SECRET },
      webhooks: { resolve: fakeDns({ 'hooks.example.com': ['93.184.215.14'] }) },
    });
    const response = await submit(app, { webhook: { url: 'https://hooks.example.com/chorus' } });
    expect(response.status).toBe(202);
    expect((await json(response)).webhook).toEqual({
      url: 'https://hooks.example.com/chorus',
      deliveries: [],
    });
  });

  it('checks again at delivery, after DNS: a name rebound to 127.0.0.1 since the POST is not called', async () => {
    receiver = await startReceiver([], 200);
    const port = new URL(receiver.url).port;
    app = await startApp({
      env: { WEBHOOK_SECRET: SECRET },
      webhooks: {
        resolve: fakeDns({ 'flip.test': ['93.184.215.14', '127.0.0.1'] }),
        setTimer: () => ({ cancel() {} }),
      },
    });
    const response = await submit(app, { webhook: { url: `http://flip.test:${port}/hooks/chorus` } });
    expect(response.status).toBe(202);
    const { id } = await json<{ id: string }>(response);
    const [delivery] = await deliveriesOf(app, id, 1);
    expect(delivery).toMatchObject({ attempt: 1, status: null });
    expect(delivery!.error).toMatch(/flip\.test resolves to 127\.0\.0\.1, a loopback address/);
    expect(receiver.received).toHaveLength(0);
  });

  it('reaches private receivers with WEBHOOK_ALLOW_PRIVATE=true', async () => {
    receiver = await startReceiver([], 200);
    app = await startApp({ env: { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' } });
    const response = await submit(app, { webhook: { url: receiver.url } });
    expect(response.status).toBe(202);
    const { id } = await json<{ id: string }>(response);
    expect(await deliveriesOf(app, id, 1)).toMatchObject([{ status: 200, error: null }]);
  });

  it('refuses a webhook when the server has no WEBHOOK_SECRET, naming the variable', async () => {
    app = await startApp();
    const response = await submit(app, { webhook: { url: 'https://hooks.example.com/chorus' } });
    expect(response.status).toBe(422);
    const problem = await json<Problem>(response);
    expect(problem.errors[0]).toMatchObject({ path: '/webhook/url' });
    expect(problem.detail).toMatch(/WEBHOOK_SECRET/);
  });

  it('answers 400 for a webhook that is not an object with a url', async () => {
    app = await startApp({ env: { WEBHOOK_SECRET: SECRET } });
    const response = await submit(app, { webhook: { url: 'https://a.example', secret: 'x' } });
    expect(response.status).toBe(400);
  });
});
