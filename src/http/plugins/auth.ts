import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { KeyPolicy } from '../../analyses/key-policy.js';
import { HttpProblem } from '../problem.js';
import type { AuthFailureLimiter } from './auth-failures.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the API key the request acts for (never the key itself); `anonymous` when auth is off. */
    owner: string;
    /** The key's limits; undefined when auth is off or a stream token stands for the key. */
    apiKey: AuthKey | undefined;
  }
}

export const ANONYMOUS = 'anonymous';

/** A configured key as auth knows it: its SHA-256 (hex), its name and its limits. */
export interface AuthKey extends KeyPolicy {
  sha256: string;
  rpm?: number | undefined;
}

interface KnownKey {
  digest: Buffer;
  key: AuthKey;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Bearer authentication for `/v1`. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every configured key, so the time taken does not
 * depend on where a guess differs. Only digests are held; requests are owned
 * by the key's name. `replace` swaps the whole set at once (a reload).
 */
export class ApiKeyAuth {
  private keys: KnownKey[] = [];

  constructor(
    keys: readonly AuthKey[],
    /** Counts wrong keys per client address (AUTH_FAILURES_PER_MINUTE); none in unit uses. */
    private readonly failures?: AuthFailureLimiter,
  ) {
    this.replace(keys);
  }

  /** Takes a new set of keys (KEYS_FILE reloaded); requests in flight keep the key they had. */
  replace(keys: readonly AuthKey[]): void {
    this.keys = keys.map((key) => ({ digest: Buffer.from(key.sha256, 'hex'), key }));
  }

  /** The key of that name (an admin reading another key's usage). */
  byName(name: string): AuthKey | undefined {
    return this.keys.find((known) => known.key.name === name)?.key;
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The key a bearer token is, or undefined. */
  keyOf(authorization: string | undefined): AuthKey | undefined {
    if (!authorization) return undefined;
    const match = /^Bearer[ \t]+([^\s]+)\s*$/i.exec(authorization);
    if (!match) return undefined;
    const given = digest(match[1]!);
    let found: AuthKey | undefined;
    for (const known of this.keys) {
      if (timingSafeEqual(given, known.digest)) found = known.key;
    }
    return found;
  }

  /**
   * The onRequest hook. `allowToken` lets a route accept a signed stream token
   * instead (the route checks it): the owner is then left empty.
   */
  hook(allowToken: (request: FastifyRequest) => boolean) {
    return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      if (!this.enabled) {
        request.owner = ANONYMOUS;
        request.apiKey = undefined;
        return;
      }
      const blocked = this.failures?.blockedFor(request.ip);
      if (blocked !== undefined) throw this.tooManyFailures(blocked);
      const header = request.headers.authorization;
      const key = this.keyOf(header);
      if (key) {
        request.owner = key.name;
        request.apiKey = key;
        return;
      }
      if (!header && allowToken(request)) {
        request.owner = '';
        request.apiKey = undefined;
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
  /** The keys (API_KEYS and KEYS_FILE); none turns authentication off (every request is `anonymous`). */
  auth: ApiKeyAuth;
  /** Routes that may be read with a signed stream token instead of a key (the route checks it). */
  allowToken: (request: FastifyRequest) => boolean;
}

/** Bearer authentication for the scope it is registered in (the `/v1` routes). */
export const apiKeyAuth = fp<AuthOptions>(
  async (app, options) => {
    const { auth } = options;
    app.decorateRequest('owner', '');
    app.decorateRequest('apiKey', undefined);
    app.addHook('onRequest', auth.hook(options.allowToken));
    if (!auth.enabled) app.log.debug('authentication is off');
  },
  { name: 'chorus-auth' },
);
