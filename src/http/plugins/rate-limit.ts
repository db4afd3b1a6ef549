import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type { RateLimited } from './problem-details.js';

/**
 * RATE_LIMIT_PER_MINUTE per API key (or client address when auth is off),
 * for the scope it is registered in; the problem-details handler answers its
 * refusal as a `429` problem with `Retry-After`. Registered after the auth
 * plugin, so the key is known.
 */
export const perKeyRateLimit = fp<{ perMinute: number | undefined }>(
  async (app, options) => {
    if (!options.perMinute) return;
    await app.register(rateLimit, {
      max: options.perMinute,
      timeWindow: 60_000,
      hook: 'preParsing',
      keyGenerator: (request) => request.owner || request.ip,
      errorResponseBuilder: (_request, context): Error & RateLimited =>
        Object.assign(new Error(`Rate limit of ${context.max} requests per minute reached.`), {
          statusCode: 429 as const,
          retryAfterSeconds: Math.ceil(context.ttl / 1000),
        }),
    });
  },
  { name: 'chorus-rate-limit' },
);
