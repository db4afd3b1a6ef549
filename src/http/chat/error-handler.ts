import type { FastifyError, FastifyInstance } from 'fastify';
import { ChatError, toChatError } from './chat-error.js';

/** An error as a surface answers it. */
export interface SurfaceErrorAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** The error and not-found handlers of a chat surface's scope: every failure in that surface's own shape, as JSON. */
export function useChatErrors(app: FastifyInstance, shape: (error: ChatError) => SurfaceErrorAnswer): void {
  app.setNotFoundHandler((request, reply) => {
    const answer = shape(
      new ChatError('not_found', `No route matches ${request.method} ${request.url.split('?')[0]}.`),
    );
    return reply.code(answer.status).type('application/json').send(answer.body);
  });
  app.setErrorHandler((caught: FastifyError, request, reply) => {
    const error = toChatError(caught);
    if (error.kind === 'internal') request.log.error({ err: caught }, 'request failed');
    const answer = shape(error);
    return reply.code(answer.status).headers(answer.headers).type('application/json').send(answer.body);
  });
}
