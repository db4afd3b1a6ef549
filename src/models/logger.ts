/**
 * The log lines the models layer writes, as an interface of its own: pino
 * (and so Fastify's logger) satisfies it, and nothing below the routes
 * depends on Fastify.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
