/**
 * A webhook receiver on 127.0.0.1: records every POST (headers and raw body)
 * and answers from a script, one reply per request, then `fallback`:
 *   a status number, `{ redirect: url }` (302 to it), 'hang' (never answers) or 'reset'.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ReceiverReply = number | 'hang' | 'reset' | { redirect: string };

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Replies for the next requests, in order. */
  script: ReceiverReply[];
  fallback: ReceiverReply;
  close(): Promise<void>;
}

export async function startReceiver(
  script: ReceiverReply[] = [],
  fallback: ReceiverReply = 204,
): Promise<FakeReceiver> {
  const sockets = new Set<Socket>();
  const receiver: FakeReceiver = {
    url: '',
    received: [],
    script,
    fallback,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receiver.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = receiver.script.shift() ?? receiver.fallback;
      if (reply === 'hang') return;
      if (reply === 'reset') {
        request.socket.destroy();
        return;
      }
      if (typeof reply === 'object') {
        response.writeHead(302, { location: reply.redirect }).end();
        return;
      }
      response.writeHead(reply).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/chorus`;
  return receiver;
}
