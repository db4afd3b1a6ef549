/**
 * The provider fetch (Node's HTTP client under the SDKs), driven by the real
 * `openai` client against a local server: streamed answers reach the SDK's
 * decoder, connections are reused, a pause longer than the idle-socket
 * timeout does not cut a live answer, errors keep the shapes the SDK and the
 * error mapping read, and an abort closes the connection.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { APIConnectionError, APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIClient } from '../../src/providers/openai/client.js';
import { createProviderFetch } from '../../src/providers/shared/provider-fetch.js';

const IDLE_MS = 20;

interface Upstream {
  url: string;
  sockets: Set<Socket>;
  closedSockets: number;
  bodies: string[];
  close(): Promise<void>;
}

const upstreams: Upstream[] = [];

afterEach(async () => {
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
});

function chunk(content: string): string {
  return `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm1', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

async function upstream(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>,
): Promise<Upstream> {
  const state: Upstream = {
    url: '',
    sockets: new Set(),
    closedSockets: 0,
    bodies: [],
    close: async () => {
      for (const socket of state.sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const part of req) body += part;
    state.bodies.push(body);
    await handle(req, res, body);
  });
  server.on('connection', (socket) => {
    state.sockets.add(socket);
    socket.on('close', () => state.closedSockets++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  upstreams.push(state);
  return state;
}

function client(url: string) {
  return createOpenAIClient({
    apiKey: 'sk-test',
    baseURL: url,
    fetch: createProviderFetch({ idleSocketTimeoutMs: IDLE_MS }),
  });
}

async function streamText(url: string, signal?: AbortSignal): Promise<string> {
  const stream = await client(url).chat.completions.create(
    { model: 'm1', messages: [{ role: 'user', content: 'hi' }], stream: true },
    signal ? { signal } : {},
  );
  let text = '';
  for await (const part of stream) text += part.choices[0]?.delta?.content ?? '';
  return text;
}

/** The error and its chain of causes. */
function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let cause = error; cause instanceof Error; cause = cause.cause) chain.push(cause);
  return chain;
}

describe('provider fetch', () => {
  it('streams an answer whose chunks pause longer than the idle-socket timeout, and reuses the connection', async () => {
    const server = await upstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('Paris '));
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 5));
      res.write(chunk('is the capital.'));
      res.end('data: [DONE]\n\n');
    });
    const fetch = createProviderFetch({ idleSocketTimeoutMs: IDLE_MS });
    const openai = createOpenAIClient({ apiKey: 'sk-test', baseURL: server.url, fetch });
    for (let call = 0; call < 2; call++) {
      const stream = await openai.chat.completions.create({
        model: 'm1',
        messages: [{ role: 'user', content: `call ${call}` }],
        stream: true,
      });
      let text = '';
      for await (const part of stream) text += part.choices[0]?.delta?.content ?? '';
      expect(text).toBe('Paris is the capital.');
    }
    expect(server.sockets.size).toBe(1);
    expect(JSON.parse(server.bodies[1] ?? '{}').messages[0].content).toBe('call 1');
  });

  it('closes an idle connection after the idle-socket timeout', async () => {
    const server = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk('ok')}data: [DONE]\n\n`);
    });
    expect(await streamText(server.url)).toBe('ok');
    await expect.poll(() => server.closedSockets).toBe(1);
  });

  it('reads an error answer whole, so the SDK sees its status, body and headers', async () => {
    const server = await upstream((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }));
    });
    const error = await streamText(server.url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(429);
    expect((error as APIError).headers?.get('retry-after')).toBe('7');
    expect((error as APIError).message).toContain('slow down');
  });

  it('answers a JSON body as a standard response', async () => {
    const server = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ object: 'list', data: [{ id: 'm1', object: 'model', created: 1, owned_by: 'me' }] }),
      );
    });
    const page = await client(server.url).models.list();
    expect(page.data.map((model) => model.id)).toEqual(['m1']);
  });

  it('never follows a redirect: the call fails as a connection error and the key goes nowhere else', async () => {
    const elsewhere = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk('should not be read')}data: [DONE]\n\n`);
    });
    const server = await upstream((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/chat/completions` });
      res.end();
    });
    const error = await streamText(server.url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(causes(error).map((cause) => cause.message)).toContain('unexpected redirect (307)');
    expect(server.bodies).toHaveLength(1);
    expect(elsewhere.bodies).toHaveLength(0);
  });

  it('fails a refused connection as a connection error whose cause carries the socket code', async () => {
    const server = await upstream(() => undefined);
    const url = server.url;
    await server.close();
    upstreams.length = 0;
    const error = await streamText(url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(causes(error).map((cause) => (cause as NodeJS.ErrnoException).code)).toContain('ECONNREFUSED');
  });

  it('closes the connection when the caller aborts in the middle of an answer', async () => {
    const controller = new AbortController();
    const server = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('Paris '));
      // never ends: only the abort finishes this call
    });
    const stream = await client(server.url).chat.completions.create(
      { model: 'm1', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { signal: controller.signal },
    );
    const parts: string[] = [];
    const reading = (async () => {
      for await (const part of stream) {
        parts.push(part.choices[0]?.delta?.content ?? '');
        controller.abort();
      }
    })();
    await expect(reading).rejects.toThrow();
    expect(parts).toEqual(['Paris ']);
    await expect.poll(() => server.closedSockets).toBe(1);
  });
});
