import { HttpProblem } from './problem.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z:/]+$/;
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/** `Idempotency-Key`: a structured-field string (`"abc"`) or a bare token, 1–255 characters. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  const quoted = SF_STRING.exec(value);
  const key = quoted ? quoted[1]!.replace(/\\(["\\])/g, '$1') : TOKEN.test(value) ? value : undefined;
  if (key === undefined || key.length === 0 || key.length > 255) {
    throw new HttpProblem(
      'validation',
      'Idempotency-Key must be 1–255 printable characters, as a quoted string ("abc") or a bare token.',
      { errors: [{ path: '/headers/idempotency-key', message: 'invalid Idempotency-Key' }] },
    );
  }
  return key;
}

export const MAX_WAIT_SECONDS = 60;

/**
 * The `wait` preference of a `Prefer` header (RFC 7240), capped at 60 seconds;
 * other preferences and malformed values are ignored, as the RFC asks.
 */
export function parsePreferWait(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const preferences = (Array.isArray(header) ? header.join(',') : header).split(',');
  for (const preference of preferences) {
    const [head] = preference.split(';');
    const match = /^\s*wait\s*=\s*"?(\d+)"?\s*$/i.exec(head ?? '');
    if (match) return match[1]!.length > 3 ? MAX_WAIT_SECONDS : Math.min(Number(match[1]), MAX_WAIT_SECONDS);
  }
  return undefined;
}

/** `Last-Event-ID` (or the `lastEventId` query parameter): a non-negative integer. */
export function parseLastEventId(value: string | string[] | undefined): number {
  if (value === undefined) return 0;
  const text = (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
  if (text === '') return 0;
  if (!/^\d{1,15}$/.test(text)) {
    throw new HttpProblem('validation', 'Last-Event-ID must be the integer id of an event of this stream.', {
      errors: [{ path: '/headers/last-event-id', message: 'expected a non-negative integer' }],
    });
  }
  return Number(text);
}
