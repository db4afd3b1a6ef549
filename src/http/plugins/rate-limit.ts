import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RateLimited } from './problem-details.js';

/**
 * RATE_LIMIT_PER_MINUTE per API key (or client address when auth is off), or
 * the key's own `rpm` from KEYS_FILE, for the scope it is registered in; the problem-details handler answers its
 * refusal as a `429` problem with `Retry-After`. Registered after the auth
 * plugin, so the key is known.
 */
export const perKeyRateLimit = fp<{ perMinute: number | undefined }>(
  async (app, options) => {
    // Registered even without RATE_LIMIT_PER_MINUTE: a reloaded KEYS_FILE may give a key its rpm.
    const limitOf = (request: FastifyRequest) => request.apiKey?.rpm ?? options.perMinute;
    await app.register(rateLimit, {
      max: (request) => limitOf(request) ?? Number.MAX_SAFE_INTEGER,
      allowList: (request) => limitOf(request) === undefined,
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
