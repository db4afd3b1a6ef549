/**
 * A tiny request/answer protocol over the Node IPC channel between the bench
 * driver and its child processes. The child announces itself with
 * `ready(info)` and answers commands registered with `serve(handlers)`; the
 * driver calls them with `Rpc.call(command, args)`. A child whose parent goes
 * away exits at once, so no process outlives the bench.
 */
import type { ChildProcess } from 'node:child_process';

interface Request {
  rpc: number;
  command: string;
  args: unknown;
}

interface Answer {
  rpc: number;
  result?: unknown;
  error?: string;
}

type Handler = (args: never) => unknown;

/** Child side: answer the driver's commands. */
export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('This script is started by the bench driver (it needs an IPC channel).');
  process.on('disconnect', () => process.exit(0));
  // Exit through process.exit, so `--cpu-prof` writes its profile.
  process.on('SIGTERM', () => process.exit(0));
  process.on('message', (message: Request) => {
    if (typeof message !== 'object' || message === null || typeof message.rpc !== 'number') return;
    const handler = handlers[message.command];
    const answer = (payload: Omit<Answer, 'rpc'>) => process.send?.({ rpc: message.rpc, ...payload });
    if (!handler) {
      answer({ error: `unknown command ${message.command}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args as never))
      .then(
        (result) => answer({ result }),
        (error: unknown) =>
          answer({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
}

/** Child side: tell the driver the child is listening (or otherwise ready). */
export function ready(info: Record<string, unknown> = {}): void {
  process.send?.({ ready: true, ...info });
}

/** Driver side: calls into one child. */
export class Rpc {
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (message: Answer) => {
      if (typeof message !== 'object' || message === null || typeof message.rpc !== 'number') return;
      const waiting = this.pending.get(message.rpc);
      if (!waiting) return;
      this.pending.delete(message.rpc);
      clearTimeout(waiting.timer);
      if (message.error !== undefined) waiting.reject(new Error(`${this.name}: ${message.error}`));
      else waiting.resolve(message.result);
    });
    child.on('exit', (code, signal) => {
      for (const waiting of this.pending.values()) {
        clearTimeout(waiting.timer);
        waiting.reject(new Error(`${this.name} exited (${signal ?? code}) before answering`));
      }
      this.pending.clear();
    });
  }

  call<T>(command: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    const rpc = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rpc);
        reject(new Error(`${this.name}: ${command} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rpc, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.send({ rpc, command, args } satisfies Request);
    });
  }
}
