import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../problem.js';
import { AuthFailureLimiter } from './auth-failures.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key (as an id, never the key itself) the request acts for; `anonymous` when auth is off. */
    owner: string;
  }
}

export const ANONYMOUS = 'anonymous';

interface KnownKey {
  digest: Buffer;
  owner: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Bearer authentication for `/v1`. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every configured key, so the time taken does not
 * depend on where a guess differs. Requests are owned by an id derived from
 * the key, so the key itself is never stored.
 */
export class ApiKeyAuth {
  private readonly keys: KnownKey[];

  constructor(
    keys: readonly string[],
    /** Counts wrong keys per client address (AUTH_FAILURES_PER_MINUTE); none in unit uses. */
    private readonly failures?: AuthFailureLimiter,
  ) {
    this.keys = keys.map((key) => ({
      digest: digest(key),
      owner: `key_${digest(`chorus-owner:${key}`).toString('hex').slice(0, 16)}`,
    }));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The owner of a bearer token, or undefined. */
  ownerOf(authorization: string | undefined): string | undefined {
    if (!authorization) return undefined;
    const match = /^Bearer[ \t]+([^\s]+)\s*$/i.exec(authorization);
    if (!match) return undefined;
    const given = digest(match[1]!);
    let owner: string | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(given, key.digest)) owner = key.owner;
    }
    return owner;
  }

  /**
   * The onRequest hook. `allowToken` lets a route accept a signed stream token
   * instead (the route checks it): the owner is then left empty.
   */
  hook(allowToken: (request: FastifyRequest) => boolean) {
    return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      if (!this.enabled) {
        request.owner = ANONYMOUS;
        return;
      }
      const blocked = this.failures?.blockedFor(request.ip);
      if (blocked !== undefined) throw this.tooManyFailures(blocked);
      const header = request.headers.authorization;
      const owner = this.ownerOf(header);
      if (owner) {
        request.owner = owner;
        return;
      }
      if (!header && allowToken(request)) {
        request.owner = '';
        return;
      }
      if (header && this.failures?.fail(request.ip)) {
        request.log.warn(
          { remoteAddress: request.ip, limit: this.failures.maxFailures },
          'too many wrong API keys from one address: refusing its requests for the rest of the minute',
        );
      }
      throw new HttpProblem(
        'unauthorized',
        header
          ? 'The bearer token is not a valid API key.'
          : 'Send your API key as "Authorization: Bearer <key>".',
        {
          headers: {
            'www-authenticate': header
              ? 'Bearer realm="chorus", error="invalid_token"'
              : 'Bearer realm="chorus"',
          },
        },
      );
    };
  }

  private tooManyFailures(retryAfterSeconds: number): HttpProblem {
    return new HttpProblem(
      'rateLimited',
      `Too many requests with a wrong API key from your address (AUTH_FAILURES_PER_MINUTE is ${this.failures?.maxFailures}). Retry after ${retryAfterSeconds} s.`,
      { headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }
}

export interface AuthOptions {
  /** API_KEYS; none turns authentication off (every request is `anonymous`). */
  keys: readonly string[];
  /** AUTH_FAILURES_PER_MINUTE: wrong keys one client address may send per minute. */
  maxFailuresPerMinute: number;
  /** The clock of the failure window; tests pass a fake one. */
  now?: (() => number) | undefined;
  /** Routes that may be read with a signed stream token instead of a key (the route checks it). */
  allowToken: (request: FastifyRequest) => boolean;
}

/** Bearer authentication for the scope it is registered in (the `/v1` routes). */
export const apiKeyAuth = fp<AuthOptions>(
  async (app, options) => {
    const auth = new ApiKeyAuth(
      options.keys,
      new AuthFailureLimiter({ maxFailures: options.maxFailuresPerMinute, now: options.now }),
    );
    app.decorateRequest('owner', '');
    app.addHook('onRequest', auth.hook(options.allowToken));
    if (!auth.enabled) app.log.debug('authentication is off');
  },
  { name: 'chorus-auth' },
);
