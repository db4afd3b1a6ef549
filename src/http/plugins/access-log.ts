import fp from 'fastify-plugin';

/**
 * One log line per request, when its answer has gone out: method, URL (its
 * stream token redacted by the request serializer), status and time taken.
 * Fastify's own request logging (a line when a request comes in and another
 * when it ends) is off in `server.ts`: one line says as much at half the cost.
 */
export const accessLog = fp(
  async (app) => {
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
        'request completed',
      );
    });
  },
  { name: 'chorus-access-log' },
);
