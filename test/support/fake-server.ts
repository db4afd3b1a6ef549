/**
 * The engine behind the fake upstreams (fake-openai.ts, fake-anthropic.ts):
 * a real `node:http` server on 127.0.0.1 (port 0) that records every request
 * and answers each one from, in order of precedence,
 *   1. `handler(request)` when set and it returns a reply,
 *   2. the models reply (`setModelsReply`) for `GET …/models`,
 *   3. the queue (`enqueue(...)`, one reply per generation call, FIFO),
 *   4. the default: a deterministic answer (see `FakeUpstreamOptions`).
 *
 * Replies (`FakeReply`):
 *   { type: 'answer', text?, chunks?, chunkDelayMs?, latencyMs?, usage?, finishReason?, headers? }
 *       JSON, or SSE when the request asked to stream; `usage: null` leaves usage out.
 *   { type: 'error', status, body?, headers?, latencyMs? }   body: any JSON value, or a string sent as is;
 *       default: the dialect's own error JSON whose text contains FAKE_BODY_MARKER.
 *   { type: 'raw', status?, headers?, body?, chunks?, chunkDelayMs?, latencyMs? }   bytes exactly as given.
 *   { type: 'reset' }                       destroys the socket before any header is sent.
 *   { type: 'resetMidStream', afterChunks } streams `afterChunks` text deltas, then destroys the socket.
 *   { type: 'truncate', afterChunks }       streams `afterChunks` deltas, then ends the body cleanly
 *                                           without the terminal events.
 *   { type: 'streamError', afterChunks, error? }  streams deltas, then the dialect's in-stream error event.
 *   { type: 'malformed' }                   200 with a body that is not JSON (or a non-JSON SSE event).
 *   { type: 'hang' }                        never answers (until the client goes away or close()).
 * Fault replies other than reset/hang/raw/error also take the answer fields (text, chunks, delays…).
 *
 * Reading what arrived: `fake.requests` (every request: method, path, query,
 * lower-cased headers, parsed JSON body, raw body), `fake.calls` (generation
 * endpoint only), `await fake.waitForRequests(n)` (e.g. before aborting a
 * hung call), `fake.inFlight` / `fake.maxInFlight` (concurrency seen).
 * `fake.options` holds the defaults and may be changed between calls;
 * `fake.reset()` forgets requests, queue, handler and models reply.
 * `refusedURL()` gives a base URL where connections are refused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AnswerFields,
  AnswerPlan,
  Dialect,
  FakeReply,
  FakeUpstream,
  FakeUpstreamOptions,
  RecordedRequest,
} from './fake-types.js';

export * from './fake-types.js';

const sleep = (ms: number) =>
  ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

export async function startFakeUpstream(
  dialect: Dialect,
  options: FakeUpstreamOptions = {},
): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let modelsReply: FakeReply | undefined;
  let inFlight = 0;
  let maxInFlight = 0;

  const server: Server = createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => {
      inFlight -= 1;
    });
    void handle(req, res).catch(() => res.destroy());
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const recorded = await record(req, requests.length);
    requests.push(recorded);
    for (const waiter of waiters.filter((entry) => requests.length >= entry.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    const reply = choose(recorded);
    await respond(dialect, options, recorded, reply, req, res);
  };

  const choose = (request: RecordedRequest): FakeReply | undefined => {
    const fromHandler = options.handler?.(request);
    if (fromHandler) return fromHandler;
    if (request.method === 'GET' && request.path.endsWith('/models'))
      return modelsReply ?? { type: 'answer' };
    if (request.path === dialect.generationPath) return queue.shift() ?? { type: 'answer' };
    return undefined;
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/v1`,
    origin,
    requests,
    get calls() {
      return requests.filter((request) => request.path === dialect.generationPath);
    },
    options,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    setHandler: (handler) => {
      options.handler = handler;
    },
    setModelsReply: (reply) => {
      modelsReply = reply;
    },
    waitForRequests: (count) =>
      requests.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      modelsReply = undefined;
      options.handler = undefined;
      maxInFlight = inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A base URL on which nothing listens: connections are refused. */
export async function refusedURL(path = '/v1'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

async function record(req: IncomingMessage, index: number): Promise<RecordedRequest> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const rawBody = Buffer.concat(parts).toString('utf8');
  let body: unknown;
  try {
    body = rawBody ? JSON.parse(rawBody) : undefined;
  } catch {
    body = undefined;
  }
  const url = new URL(req.url ?? '/', 'http://fake');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    index,
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
    rawBody,
  };
}

function plan(
  dialect: Dialect,
  options: FakeUpstreamOptions,
  request: RecordedRequest,
  fields: AnswerFields,
) {
  const model = dialect.model(request.body);
  const configured = typeof options.text === 'function' ? options.text(request) : options.text;
  const text = fields.text ?? configured ?? defaultText(model, dialect.lastUserText(request.body));
  const pieces = split(text, fields.chunks ?? options.chunks ?? 4);
  const usage =
    fields.usage === undefined
      ? { inputTokens: countWords(dialect.promptText(request.body)), outputTokens: countWords(text) }
      : fields.usage;
  return { model, text, pieces, usage, finishReason: fields.finishReason, request } satisfies AnswerPlan;
}

function defaultText(model: string, prompt: string): string {
  const words = prompt.split(/\s+/).filter(Boolean).slice(0, 6).join(' ');
  return `${model || 'model'} answers: ${words || '(empty prompt)'}`;
}

function countWords(text: string): number {
  return Math.max(1, text.split(/\s+/).filter(Boolean).length);
}

/** Splits text into at most `count` non-empty pieces on word boundaries; joined they give the text back. */
export function split(text: string, count: number): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  if (words.length === 0) return [];
  const size = Math.ceil(words.length / Math.max(1, count));
  const pieces: string[] = [];
  for (let start = 0; start < words.length; start += size)
    pieces.push(words.slice(start, start + size).join(''));
  return pieces;
}

async function respond(
  dialect: Dialect,
  options: FakeUpstreamOptions,
  request: RecordedRequest,
  reply: FakeReply | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = `req_fake_${request.index}`;
  const baseHeaders = { [dialect.requestIdHeader]: requestId };
  if (!reply) {
    sendJSON(res, 404, baseHeaders, dialect.errorBody(404));
    return;
  }
  if (reply.type === 'reset') {
    req.socket.destroy();
    return;
  }
  if (reply.type === 'hang') return;
  const latency = 'latencyMs' in reply ? reply.latencyMs : undefined;
  await sleep(latency ?? options.latencyMs ?? 0);
  if (res.destroyed) return;
  const headers = { ...baseHeaders, ...('headers' in reply ? reply.headers : undefined) };

  if (reply.type === 'error') {
    const body = reply.body ?? dialect.errorBody(reply.status);
    if (typeof body === 'string') {
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...headers });
      res.end(body);
    } else sendJSON(res, reply.status, headers, body);
    return;
  }
  if (reply.type === 'raw') {
    res.writeHead(reply.status ?? 200, headers);
    for (const chunk of reply.chunks ?? []) {
      res.write(chunk);
      await sleep(reply.chunkDelayMs ?? 0);
    }
    res.end(reply.body ?? '');
    return;
  }
  if (request.path.endsWith('/models') && request.method === 'GET') {
    sendJSON(res, 200, headers, dialect.modelsBody(options.models ?? ['fake-model']));
    return;
  }

  const answer = plan(dialect, options, request, reply);
  const streaming = dialect.isStream(request.body);
  if (!streaming) {
    if (reply.type === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end('{"id": "broken", "choices": [{"message": ');
    } else if (reply.type === 'resetMidStream') {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.write(JSON.stringify(dialect.json(answer)).slice(0, 20));
      await sleep(10);
      res.destroy();
    } else sendJSON(res, 200, headers, dialect.json(answer));
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  const delay = reply.chunkDelayMs ?? options.chunkDelayMs ?? 0;
  const limit = 'afterChunks' in reply ? reply.afterChunks : Number.POSITIVE_INFINITY;
  let sentContent = 0;
  let contentStarted = false;
  for (const frame of dialect.frames(answer)) {
    if (res.destroyed) return;
    if (frame.content && reply.type === 'malformed') {
      res.write(dialect.malformedFrame());
      res.end();
      return;
    }
    // Header frames always go out; after `afterChunks` deltas nothing else does.
    if (sentContent >= limit && (frame.content || contentStarted)) break;
    res.write(frame.data);
    if (frame.content) {
      sentContent += 1;
      contentStarted = true;
    }
    await sleep(delay);
  }
  if (res.destroyed) return;
  if (reply.type === 'resetMidStream') {
    // Let the written frames reach the client before the connection dies.
    await sleep(20);
    res.destroy();
    return;
  }
  if (reply.type === 'streamError') res.write(dialect.streamErrorFrame(reply.error));
  res.end();
}

function sendJSON(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
