/**
 * The load clients' HTTP: `node:http` with a keep-alive agent (no socket
 * limit), so the client adds as little as possible to what is measured.
 */
import { Agent, request } from 'node:http';

export const agent = new Agent({
  keepAlive: true,
  keepAliveMsecs: 10_000,
  maxSockets: Number.POSITIVE_INFINITY,
  // Keep every idle socket: a closed loop of 1,000 must not reconnect between analyses.
  maxFreeSockets: 100_000,
});

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** Milliseconds from sending the request to the last byte of the answer. */
  ms: number;
}

export function httpRequest(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...headers,
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(parts).toString('utf8'),
            headers: res.headers,
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export const postJson = (url: string, body: unknown, headers?: Record<string, string>, timeoutMs?: number) =>
  httpRequest('POST', url, body, headers, timeoutMs);
