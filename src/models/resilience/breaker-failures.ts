/**
 * Which errors a model's circuit breaker counts as upstream failures — one
 * decision, in one place.
 */
import { type ErrorCode, isProviderError } from '../../providers/errors.js';

/**
 * Upstream failures: the upstream is unwell or pushing back. Not counted:
 * cancelled (the caller's own doing, kept out altogether), bad_request and
 * context_length_exceeded (the request's fault), auth_failed (a configuration
 * fault: the key is wrong for every call alike, retrying never helps, and
 * reporting `auth_failed` is more useful than `circuit_open`), and our own
 * codes (circuit_open, internal, shutdown, …).
 */
export const BREAKER_FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'rate_limited',
  'overloaded',
  'timeout',
  'upstream_error',
  'network_error',
]);

/** Adapters map every upstream failure to a ProviderError; anything else is our own bug and not counted. */
export function countsAsBreakerFailure(error: unknown): boolean {
  return isProviderError(error) && BREAKER_FAILURE_CODES.has(error.code);
}
