import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { RequestTrace, TraceCarrier, Tracing } from '../../analyses/tracing/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's span context (tracing on): an analysis it submits continues the trace. */
    traceCarrier: TraceCarrier | undefined;
    requestTrace: RequestTrace | undefined;
  }
}

/** Probes and scrapes would bury the traces worth reading. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * A server span per request, continuing the caller's `traceparent`; ended as
 * the answer is sent, so a client that reads the trace after its answer finds
 * it whole. Registered only when tracing is on.
 */
export const requestTracing = fp(
  async (app: FastifyInstance, { tracing }: { tracing: Tracing }) => {
    app.decorateRequest('traceCarrier', undefined);
    app.decorateRequest('requestTrace', undefined);
    app.addHook('onRequest', async (request) => {
      const route = request.routeOptions.url;
      if (route === undefined || UNTRACED.has(route)) return;
      const span = tracing.startRequest(request.method, route, request.headers);
      request.requestTrace = span;
      request.traceCarrier = span.carrier;
    });
    app.addHook('onSend', async (request, reply) => {
      request.requestTrace?.end(reply.statusCode);
    });
    // An answer that never got to onSend (the client went away).
    app.addHook('onResponse', async (request, reply) => {
      request.requestTrace?.end(reply.statusCode);
    });
  },
  { name: 'request-tracing' },
);
