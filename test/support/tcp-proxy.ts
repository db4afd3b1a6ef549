/**
 * A TCP proxy in front of a real server (Redis), for outages on demand:
 * `cut()` drops every connection and refuses new ones, `pause()` keeps them
 * open but lets nothing through (a frozen server), `restore()` forwards again.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  url: string;
  cut(): void;
  pause(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  target: { host: string; port: number },
  scheme = 'redis',
): Promise<TcpProxy> {
  let mode: 'forward' | 'cut' | 'pause' = 'forward';
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    track(upstream);
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (mode === 'forward') to.write(chunk);
      });
      from.on('close', () => to.destroy());
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    cut: () => {
      mode = 'cut';
      for (const socket of open) socket.destroy();
    },
    pause: () => {
      mode = 'pause';
    },
    restore: () => {
      mode = 'forward';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
