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

/** The request URL without secrets: the stream token in a query string is replaced. */
export function safeUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1[redacted]');
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
