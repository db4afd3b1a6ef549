/**
 * Problems the HTTP parser finds before a route (or Fastify itself) is
 * involved: headers too large (431), a request that took too long to arrive
 * (408), bad framing (400), and a missing Host header. They are answered as
 * problem+json like every other error, with an `x-request-id`.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, maxHeaderSize, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ProblemKind, problemOf, sendProblem } from './problem.js';

export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a client error can tell about the request it interrupted. */
interface Interrupted {
  path: string;
  requestId: string | undefined;
}

/** The request line and `x-request-id` of the bytes the parser refused, when they are there. */
function fromRawPacket(raw: unknown): Partial<Interrupted> {
  if (!Buffer.isBuffer(raw)) return {};
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const line = /^[A-Z]{1,20} (\/[^\s?#]{0,2047})[^\s]* HTTP\/1\.[01]\r?\n/.exec(head);
  const id = /\r?\nx-request-id:[ \t]*([^\r\n]*)/i.exec(head);
  return { path: line?.[1], requestId: id?.[1]?.trim() };
}

/** The request Node had already parsed, when the error came while its body was arriving. */
function fromPending(socket: Socket): Partial<Interrupted> & { headersSent?: boolean } {
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  const request: IncomingMessage | undefined = response?.req;
  if (!response || !request) return {};
  const id = request.headers['x-request-id'];
  const path = (request.url ?? '').split('?')[0];
  return {
    path: path?.startsWith('/') ? path : undefined,
    requestId: typeof id === 'string' ? id.trim() : undefined,
    headersSent: response.headersSent,
  };
}

function kindOf(code: string | undefined): { kind: ProblemKind; detail: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      kind: 'requestTimeout',
      detail:
        'The request was not received in time (REQUEST_TIMEOUT_MS): send the headers and the whole body without pausing.',
    };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      kind: 'headersTooLarge',
      detail: `The request headers are larger than this server accepts (${maxHeaderSize} bytes in all): send fewer or shorter headers.`,
    };
  }
  return {
    kind: 'validation',
    detail: 'The request is not valid HTTP/1.1 (its framing could not be parsed).',
  };
}

/**
 * Fastify's `clientErrorHandler` (called with the Fastify instance as `this`):
 * the same answers as the default one, as problem+json.
 */
export function clientErrorHandler(
  this: unknown,
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const pending = fromPending(socket);
  const raw = fromRawPacket(error.rawPacket);
  const { kind, detail } = kindOf(error.code);
  const incoming = pending.requestId ?? raw.requestId;
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const body = problemOf(kind, detail, pending.path ?? raw.path ?? '/', requestId);
  (this as FastifyInstance | undefined)?.log?.debug({ err: error, requestId }, 'client error');
  if (socket.writable && !pending.headersSent) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status]}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(text)}\r\n` +
        `x-request-id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        text,
    );
  }
  socket.destroy(error);
}

/**
 * HTTP/1.1 requires a Host header. Node refuses a request without one with an
 * empty 400 of its own, so the server is told not to (`requireHostHeader:
 * false`) and this hook answers the problem instead.
 */
export async function requireHost(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.raw.httpVersion !== '1.1' || request.headers.host !== undefined) return;
  reply.header('connection', 'close');
  await sendProblem(request, reply, 'validation', 'An HTTP/1.1 request needs a Host header.');
}

/** Fastify's `frameworkErrors`: malformed URLs never reach a route, and are answered as problems too. */
export function frameworkErrors(
  error: { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.header('x-request-id', request.id);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendProblem(request, reply, 'uriTooLong', 'A path segment is longer than this API accepts.');
  } else if (error.code === 'FST_ERR_BAD_URL') {
    sendProblem(request, reply, 'validation', 'The path is not valid percent-encoding.');
  } else {
    sendProblem(request, reply, 'validation', 'The request could not be routed.');
  }
}
