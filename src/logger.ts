import type { FastifyRequest } from 'fastify';
import { type LoggerOptions, stdSerializers } from 'pino';
import { maskUrlsIn } from './util/mask-url.js';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'authorization',
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'providers[*].apiKey',
  'config.providers[*].apiKey',
  'API_KEYS',
  '*.API_KEYS',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'STREAM_TOKEN_SECRET',
  '*.STREAM_TOKEN_SECRET',
  'token',
  '*.token',
];

/** Query parameters whose values never reach a log line (compared after percent-decoding). */
const SECRET_PARAMS: ReadonlySet<string> = new Set(['token']);

/** Percent-decodes what decodes (`%74oken` is `token`); a malformed escape is left as it is. */
function lenientDecode(text: string): string {
  const plus = text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/**
 * The request URL without secrets: the value of every query parameter whose
 * name, once decoded the way the query parser decodes it, is a secret
 * (`?token=`, `?%74oken=`, `?TOKEN=`) is replaced.
 */
export function safeUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const pairs = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      if (!SECRET_PARAMS.has(lenientDecode(name).trim().toLowerCase())) return pair;
      return `${name}=[redacted]`;
    });
  return `${url.slice(0, start + 1)}${pairs.join('&')}`;
}

/** What a log line shows of a request: no headers, and no secrets in the URL. */
export function requestSerializer(request: FastifyRequest) {
  return { method: request.method, url: safeUrl(request.url), remoteAddress: request.ip };
}

/** Strings of a serialized error with every URL's credentials masked (a cause nests a few levels). */
function masked(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskUrlsIn(value);
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => masked(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, masked(item, depth + 1)]));
}

/** An error as pino shows it, without the credentials of a URL in its message or stack. */
export function errorSerializer(error: unknown): unknown {
  return masked(error instanceof Error ? stdSerializers.err(error) : error);
}

/** The serializers every logger of the service uses, whoever built the logger. */
export const SERIALIZERS = { req: requestSerializer, err: errorSerializer };

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: SERIALIZERS,
  };
}
