/**
 * The bench's fake OpenAI upstream, in its own process: `POST
 * /v1/chat/completions` answers after a fixed latency, streaming (`stream:
 * true`) the OpenAI chat-completions SSE wire format — a role chunk, N content
 * chunks `chunkDelayMs` apart, a finish chunk, the usage chunk when the
 * request set `stream_options.include_usage`, then `data: [DONE]`. `GET
 * /v1/models` lists the models. Lean on purpose: frames are built once per
 * model and configuration, so the upstream is never what limits a scenario.
 *
 * Driven over IPC (see lib/ipc.ts):
 *   configure({ latencyMs, chunks, chunkDelayMs, textChars, recordTimings })
 *   hold() / release()   — calls that arrive while held wait (after their latency) until release
 *   stats()              — { completed, started, inFlight, maxInFlight }
 *   timings()            — per `[bench:<tag>]` found in the request: [[startMs, endMs], …], then forgets them
 *
 * Timing of a call, at the upstream: from the request's arrival to the end of
 * its answer, in milliseconds since the epoch (`performance.timeOrigin +
 * performance.now()`), so a client on the same machine can line its own
 * clock up with them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerPieces, answerText } from '../lib/answer.js';
import { ready, serve } from '../lib/ipc.js';

interface UpstreamConfig {
  latencyMs: number;
  chunks: number;
  chunkDelayMs: number;
  textChars: number;
  recordTimings: boolean;
}

const config: UpstreamConfig = {
  latencyMs: 0,
  chunks: 8,
  chunkDelayMs: 0,
  textChars: 400,
  recordTimings: false,
};

let held = false;
const waitingForRelease: Array<() => void> = [];
let started = 0;
let completed = 0;
let inFlight = 0;
let maxInFlight = 0;
let timings = new Map<string, number[][]>();

interface Frames {
  head: string;
  content: string[];
  finish: string;
  text: string;
}

const framesCache = new Map<string, Frames>();

function framesFor(model: string, includeUsage: boolean): Frames {
  const key = `${model}\u0000${includeUsage}`;
  let frames = framesCache.get(key);
  if (frames) return frames;
  const usageField = includeUsage ? ',"usage":null' : '';
  const prefix = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":${JSON.stringify(model)},"choices":`;
  const text = answerText(config.textChars);
  frames = {
    head: `${prefix}[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]${usageField}}\n\n`,
    content: answerPieces(text, config.chunks).map(
      (piece) =>
        `${prefix}[{"index":0,"delta":{"content":${JSON.stringify(piece)}},"finish_reason":null}]${usageField}}\n\n`,
    ),
    finish: `${prefix}[{"index":0,"delta":{},"finish_reason":"stop"}]${usageField}}\n\n`,
    text,
  };
  framesCache.set(key, frames);
  return frames;
}

function usageFrame(model: string, promptChars: number, text: string): string {
  const prompt = Math.max(1, Math.ceil(promptChars / 4));
  const completion = Math.max(1, Math.ceil(text.length / 4));
  return `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":${JSON.stringify(model)},"choices":[],"usage":{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion}}}\n\n`;
}

const TAG = /\[bench:([A-Za-z0-9_.-]+)\]/;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
}

async function completion(req: IncomingMessage, res: ServerResponse, arrived: number): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const raw = Buffer.concat(parts).toString('utf8');
  const body = JSON.parse(raw) as ChatBody;
  const model = body.model ?? 'model';
  const tag = config.recordTimings ? TAG.exec(raw)?.[1] : undefined;
  if (config.latencyMs > 0) await sleep(config.latencyMs);
  if (held) await new Promise<void>((resolve) => waitingForRelease.push(resolve));
  if (res.destroyed) return;
  const includeUsage = body.stream_options?.include_usage === true;
  const frames = framesFor(model, includeUsage);
  const finished = () => {
    completed++;
    if (tag !== undefined) {
      let list = timings.get(tag);
      if (!list) {
        list = [];
        timings.set(tag, list);
      }
      list.push([arrived, performance.timeOrigin + performance.now()]);
    }
  };
  if (body.stream !== true) {
    const prompt = Math.max(1, Math.ceil(raw.length / 4));
    const completionTokens = Math.ceil(frames.text.length / 4);
    const json = JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1700000000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: frames.text }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completionTokens,
        total_tokens: prompt + completionTokens,
      },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json, finished);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const tail = `${frames.finish}${includeUsage ? usageFrame(model, raw.length, frames.text) : ''}data: [DONE]\n\n`;
  if (config.chunkDelayMs <= 0) {
    res.end(`${frames.head}${frames.content.join('')}${tail}`, finished);
    return;
  }
  res.write(frames.head);
  for (const frame of frames.content) {
    if (res.destroyed) return;
    res.write(frame);
    await sleep(config.chunkDelayMs);
  }
  if (res.destroyed) return;
  res.end(tail, finished);
}

const MODELS_BODY = JSON.stringify({
  object: 'list',
  data: Array.from({ length: 12 }, (_, index) => ({
    id: `m${index + 1}`,
    object: 'model',
    created: 1700000000,
    owned_by: 'bench',
  })),
});

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/v1/chat/completions') {
    const arrived = performance.timeOrigin + performance.now();
    started++;
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    res.once('close', () => {
      inFlight--;
    });
    completion(req, res, arrived).catch(() => res.destroy());
    return;
  }
  if (req.method === 'GET' && req.url === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(MODELS_BODY);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error","code":null}}');
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.maxRequestsPerSocket = 0;

serve({
  configure: (args: Partial<UpstreamConfig>) => {
    Object.assign(config, args);
    framesCache.clear();
    return config;
  },
  hold: () => {
    held = true;
  },
  release: () => {
    held = false;
    for (const resolve of waitingForRelease.splice(0)) resolve();
  },
  stats: () => {
    const snapshot = { started, completed, inFlight, maxInFlight };
    maxInFlight = inFlight;
    return snapshot;
  },
  timings: () => {
    const out = Object.fromEntries(timings);
    timings = new Map();
    return out;
  },
});

// A deep accept queue: the service may open thousands of connections at once.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  ready({ port, url: `http://127.0.0.1:${port}/v1` });
});
