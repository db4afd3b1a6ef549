/**
 * An upstream's request id is its own text: one that echoes our credentials
 * must never reach a log line. Real path: Chorus → SDK → fake upstream that
 * answers with the request's own Authorization (or x-api-key) as its id.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { upstreamRequestId } from '../../src/providers/shared/upstream-request-id.js';
import {
  API_KEY,
  fakeProvider,
  recordingSleep,
  resources,
  response,
  run,
  script,
  textFor,
} from '../resilience/helpers.js';
import { startApp } from '../support/app.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { type FakeUpstream, type RecordedRequest, startFakeOpenAI } from '../support/fake-openai.js';

const open = resources();
afterEach(() => open.closeAll());

/** Every reply of the fake carries `header` set to what `echo` picks from the request. */
function echoing(fake: FakeUpstream, header: string, echo: (request: RecordedRequest) => string): void {
  let failed = false;
  fake.setHandler((request) => {
    if (!request.path.endsWith('/messages') && !request.path.endsWith('/chat/completions')) return undefined;
    const headers = { [header]: echo(request) };
    // The first call fails (its id is logged with the failure); the retry succeeds.
    if (!failed) {
      failed = true;
      return { type: 'error', status: 500, headers };
    }
    return { type: 'answer', text: textFor(request), headers };
  });
}

async function logged(fake: FakeUpstream, kind: 'openai-compatible' | 'anthropic') {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  const app = await startApp({
    logger,
    providers: [{ ...fakeProvider(fake, ['one']), kind }],
    caller: { retry: { maxAttempts: 3, sleep: recordingSleep().sleep } },
  });
  open.apps.push(app);
  const { record } = await run(app, { prompt: 'Echoed id question', models: ['up/one'] });
  return { record, lines };
}

describe('upstream request ids', () => {
  it('an OpenAI-compatible upstream echoing "Authorization: Bearer <key>" as x-request-id: the key is never logged', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    echoing(fake, 'x-request-id', (request) => request.headers.authorization ?? '');
    const { record, lines } = await logged(fake, 'openai-compatible');
    expect(fake.calls[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(response(record, 'initial', 'up/one')).toMatchObject({ status: 'succeeded', attempts: 2 });
    const failure = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'model call failed');
    expect(failure).toMatchObject({ model: 'up/one', status: 500 });
    expect(failure).not.toHaveProperty('upstreamRequestId');
    for (const line of lines) expect(line).not.toContain(API_KEY);
  });

  it('an upstream echoing the bare key (a token-shaped value) is dropped too', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    echoing(fake, 'x-request-id', (request) => (request.headers.authorization ?? '').replace('Bearer ', ''));
    const { lines } = await logged(fake, 'openai-compatible');
    expect(lines.some((line) => line.includes('model call failed'))).toBe(true);
    for (const line of lines) expect(line).not.toContain(API_KEY);
  });

  it('an Anthropic upstream echoing its credential header as request-id: the key is never logged', async () => {
    const fake = await startFakeAnthropic({ text: textFor });
    open.fakes.push(fake);
    const credential = (request: RecordedRequest) =>
      request.headers['x-api-key'] ?? request.headers.authorization ?? '';
    echoing(fake, 'request-id', credential);
    const { lines } = await logged(fake, 'anthropic');
    expect(credential(fake.calls[0]!)).toContain(API_KEY);
    expect(lines.some((line) => line.includes('model call failed'))).toBe(true);
    for (const line of lines) expect(line).not.toContain(API_KEY);
  });

  it('a well-shaped id is still logged with the failure', async () => {
    const fake = await startFakeOpenAI({ text: textFor });
    open.fakes.push(fake);
    script(fake, {
      'one:initial': [{ type: 'error', status: 500, headers: { 'x-request-id': 'req_8f2:a-1.b' } }],
    });
    const { lines } = await logged(fake, 'openai-compatible');
    const failure = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'model call failed');
    expect(failure).toMatchObject({ upstreamRequestId: 'req_8f2:a-1.b' });
  });

  it.each([
    ['req_abc123', 'req_abc123'],
    ['0b9e6c1e-5d8f-4c38-9f0e-3a1e2b7c9d10', '0b9e6c1e-5d8f-4c38-9f0e-3a1e2b7c9d10'],
    [`Bearer ${API_KEY}`, undefined],
    [API_KEY, undefined],
    ['sk-ant-api03-abcdef', undefined],
    ['key_live_123', undefined],
    ['a'.repeat(129), undefined],
    ['req 1', undefined],
    ['req\u00e91', undefined],
    ['', undefined],
  ])('the shape of %j → %j', (value, expected) => {
    expect(upstreamRequestId(new Headers({ 'x-request-id': value }), 'x-request-id')).toBe(expected);
  });

  it('takes the first header present, and nothing without headers', () => {
    const headers = new Headers({ 'request-id': 'req_2' });
    expect(upstreamRequestId(headers, 'x-request-id', 'request-id')).toBe('req_2');
    expect(upstreamRequestId(undefined, 'x-request-id')).toBeUndefined();
  });
});
