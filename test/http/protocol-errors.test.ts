/**
 * Errors found before a route runs — by Node's HTTP parser, its timers or
 * Fastify's body parsing — are problem+json like every other error, with an
 * `x-request-id`; a request body that dribbles in is cut off with a 408 after
 * REQUEST_TIMEOUT_MS; a prototype-polluting key is a validation problem that
 * names where it is.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True once the server closed the connection. */
  closed: boolean;
}

function parseAnswer(text: string, closed: boolean): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end < 0 ? text.length : end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: end < 0 ? '' : text.slice(end + 4), closed };
}

/** Writes raw bytes to the server and reads until it closes the connection. */
function exchange(t: TestApp, write: (socket: Socket) => void): Promise<RawAnswer> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(parseAnswer(text, true)));
    socket.on('connect', () => {
      try {
        write(socket);
      } catch (error) {
        reject(error);
      }
    });
  });
}

const send = (t: TestApp, raw: string) => exchange(t, (socket) => socket.write(raw));

function expectProblem(answer: RawAnswer, status: number, type: string, instance: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(answer.body) as Record<string, unknown>;
  expect(problem).toMatchObject({ status, type, instance, title: expect.any(String) });
  expect(problem.detail).toEqual(expect.any(String));
  expect(answer.headers['x-request-id']).toBeTruthy();
  expect(problem.requestId).toBe(answer.headers['x-request-id']);
  return problem as { detail: string; errors?: Array<{ path: string; message: string }> };
}

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ env: { API_KEYS: 'proto-key', REQUEST_TIMEOUT_MS: '300' } });
});
afterAll(async () => {
  await t.close();
});

describe('protocol-level errors are problem+json', () => {
  it('headers larger than the server accepts: 431, keeping the incoming x-request-id', async () => {
    const answer = await send(
      t,
      `GET /v1/models HTTP/1.1\r\nHost: x\r\nx-request-id: big-headers-1\r\nx-filler: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const problem = expectProblem(answer, 431, '/problems/headers-too-large', '/v1/models');
    expect(answer.headers['x-request-id']).toBe('big-headers-1');
    expect(problem.detail).toContain('16384');
  });

  it('a request without Host: 400 naming the header', async () => {
    const answer = await send(t, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    const problem = expectProblem(answer, 400, '/problems/validation-error', '/healthz');
    expect(problem.detail).toContain('Host');
  });

  it('an HTTP/1.0 request without Host is still served', async () => {
    const answer = await send(t, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(answer.status).toBe(200);
  });

  it.each([
    [
      'both Content-Length and Transfer-Encoding',
      'POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      '/v1/analyses',
    ],
    [
      'a malformed chunk size',
      'POST /v1/analyses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      '/v1/analyses',
    ],
    ['a space before the colon', 'GET /v1/models?x=1 HTTP/1.1\r\nHost : x\r\n\r\n', '/v1/models'],
  ])('bad framing (%s): 400', async (_name, raw, instance) => {
    expectProblem(await send(t, raw), 400, '/problems/validation-error', instance);
  });

  it('bytes that are not HTTP at all: 400 on the root instance', async () => {
    expectProblem(await send(t, 'HELLO THERE\r\n\r\n'), 400, '/problems/validation-error', '/');
  });
});

describe('request time-out (REQUEST_TIMEOUT_MS)', () => {
  it('a body dribbled a byte at a time is answered 408 and the connection closed', async () => {
    const body = JSON.stringify({ prompt: 'dribbled' });
    let timer: NodeJS.Timeout | undefined;
    const answer = await exchange(t, (socket) => {
      socket.write(
        'POST /v1/analyses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer proto-key\r\n' +
          `x-request-id: dribble-1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      // One byte per tick for ever (well past the 300 ms limit): only the server can end this.
      let sent = 0;
      timer = setInterval(() => {
        if (!socket.destroyed && sent < body.length - 1) socket.write(body[sent++]!);
      }, 50);
    });
    clearInterval(timer);
    expect(answer.closed).toBe(true);
    expectProblem(answer, 408, '/problems/request-timeout', '/v1/analyses');
    expect(answer.headers['x-request-id']).toBe('dribble-1');
    expect(JSON.parse(answer.body).detail).toContain('REQUEST_TIMEOUT_MS');
  });

  it('headers that never end are answered 408 too', async () => {
    const answer = await exchange(t, (socket) => {
      socket.write('GET /v1/models HTTP/1.1\r\nHost: x\r\n');
    });
    expect(answer.closed).toBe(true);
    expect(answer.status).toBe(408);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('prototype-polluting keys', () => {
  it.each([
    ['{"prompt":"x","__proto__":{"polluted":true}}', '/__proto__'],
    ['{"prompt":"x","metadata":{"a":[1,{"__proto__":{}}]}}', '/metadata/a/1/__proto__'],
    [
      '{"prompt":"x","metadata":{"constructor":{"prototype":{"polluted":true}}}}',
      '/metadata/constructor/prototype',
    ],
    ['{"prompt":"x","metadata":{"\\u005f_proto__":1}}', '/metadata/__proto__'],
  ])('%s is a 400 validation problem pointing at %s', async (body, path) => {
    const res = await fetch(`${t.url}/v1/analyses`, {
      method: 'POST',
      headers: { authorization: 'Bearer proto-key', 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { type: string; detail: string; errors: Array<{ path: string }> };
    expect(problem.type).toBe('/problems/validation-error');
    expect(problem.detail).not.toMatch(/could not be parsed/);
    expect(problem.errors).toEqual([{ path, message: expect.stringContaining('not accepted') }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('malformed JSON is still reported as malformed', async () => {
    const res = await fetch(`${t.url}/v1/analyses`, {
      method: 'POST',
      headers: { authorization: 'Bearer proto-key', 'content-type': 'application/json' },
      body: '{"__proto__": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { type: string }).type).toBe('/problems/malformed-json');
  });
});
