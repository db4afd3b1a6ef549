import http from 'node:http';
import https from 'node:https';
import { RefusedWebhookUrl, resolveReceiver } from './address-guard.js';
import type { Resolver } from './types.js';

export interface SendOptions {
  resolve: Resolver;
  allowPrivate: boolean;
  /** The whole attempt — DNS, connection, answer — ends after this long (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
}

export interface SendOutcome {
  status: number | null;
  error: string | null;
}

/**
 * One POST of a signed body. The host is resolved and checked here, at the
 * attempt, and the socket connects to the very address checked (TLS still
 * verifies the host name). Redirects are never followed: a 3xx is an answer
 * like any other non-2xx. The receiver's body is not read beyond draining it.
 */
export async function sendWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<SendOutcome> {
  const url = new URL(rawUrl);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let target: { address: string; family: number };
  try {
    target = await Promise.race([
      resolveReceiver(url, options),
      new Promise<never>((_, reject) =>
        deadline.addEventListener('abort', () => reject(new Error('timeout')), { once: true }),
      ),
    ]);
  } catch (error) {
    if (error instanceof RefusedWebhookUrl) return { status: null, error: error.message };
    return { status: null, error: `No answer within ${options.timeoutMs} ms (WEBHOOK_TIMEOUT_MS).` };
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendOutcome>((resolve) => {
    const request = client.request(
      {
        protocol: url.protocol,
        host: target.address,
        family: target.family,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        servername: url.hostname.startsWith('[') ? undefined : url.hostname,
        headers: {
          ...headers,
          host: url.host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'chorus-webhooks',
        },
        signal: deadline,
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? null;
        response.resume();
        // 'close' comes after the end, and also when the deadline cuts an endless body short.
        response.once('close', () => resolve(outcomeOf(status)));
      },
    );
    request.once('error', (error) => {
      resolve({
        status: null,
        error: deadline.aborted
          ? `No answer within ${options.timeoutMs} ms (WEBHOOK_TIMEOUT_MS).`
          : `The receiver could not be reached: ${(error as NodeJS.ErrnoException).code ?? error.message}.`,
      });
    });
    request.end(body);
  });
}

function outcomeOf(status: number | null): SendOutcome {
  if (status !== null && status >= 200 && status < 300) return { status, error: null };
  if (status !== null && status >= 300 && status < 400) {
    return { status, error: `The receiver answered ${status}: redirects are not followed.` };
  }
  return { status, error: `The receiver answered ${status}.` };
}
