import type { FastifyInstance } from 'fastify';
import { sendProblem } from '../problem.js';

/**
 * How long Fastify lets the close hooks run (its `pluginTimeout`). The drain
 * takes the grace, then up to 5 s for the analyses it aborts to write their
 * end: with less, `close()` would reject and a clean shutdown would exit 1.
 */
export function closeHooksTimeoutMs(graceMs: number): number {
  return graceMs + 10_000;
}

export interface DrainingOptions {
  /** Stops taking work and lets running analyses end (the engine's shutdown). */
  drain: () => Promise<void>;
  /** Ends every open event stream (their analyses have ended by now). */
  openStreams: Set<() => void>;
  /** Seconds a client is told to wait before it tries again. */
  retryAfterSeconds: number;
}

/**
 * Graceful shutdown: once `close()` starts, running analyses get their grace
 * while every new request is answered `503` problem+json with `Retry-After`
 * (a load balancer sends it elsewhere), and every answer closes its
 * connection, so the server's close never waits on keep-alive.
 */
export function registerDraining(app: FastifyInstance, options: DrainingOptions): void {
  let closing = false;
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    return sendProblem(request, reply, 'unavailable', 'The service is shutting down: retry shortly.', {
      headers: { 'retry-after': String(options.retryAfterSeconds) },
    });
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('preClose', async () => {
    closing = true;
    await options.drain();
    for (const close of [...options.openStreams]) close();
    app.server.closeIdleConnections();
    // A request still in flight gets a moment to finish; then nothing holds the close.
    setTimeout(() => app.server.closeAllConnections(), 2_000).unref();
  });
}
