import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

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

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { req: requestSerializer },
  };
}
