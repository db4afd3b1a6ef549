/**
 * What the transport says about a failure: the socket error codes undici and
 * Node put on an error's `cause` chain, and the abort reasons that mean a
 * timeout. No SDK involved.
 */
import { isRecord } from '../../util/is-record.js';

export const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
export const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
export const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** True when a signal's abort reason is a timeout rather than a cancellation. */
export function isTimeoutReason(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && 'name' in reason && reason.name === 'TimeoutError';
}

/** An abort the SDK or fetch reports by name. */
export function isAbortLike(error: unknown): boolean {
  return isRecord(error) && 'name' in error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** `code`s along the `cause` chain (undici puts the socket's code on the cause). */
export function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isRecord(current); depth += 1) {
    if (typeof current.code === 'string') codes.push(current.code);
    current = current.cause;
  }
  return codes;
}

/** undici's "terminated" (socket closed mid-body) and "other side closed". */
export function isTerminated(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (/^terminated$|other side closed|socket hang up/i.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
