/** The wait an upstream asks for before the next call. */

/**
 * Parses `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP
 * date) into milliseconds. Returns undefined when neither is usable.
 */
export function parseRetryAfter(
  getHeader: (name: string) => string | null | undefined,
  now: () => number = Date.now,
): number | undefined {
  const milliseconds = getHeader('retry-after-ms');
  if (milliseconds) {
    const value = Number.parseFloat(milliseconds);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const retryAfter = getHeader('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number.parseFloat(retryAfter);
  if (Number.isFinite(seconds) && /^\s*\d+(\.\d+)?\s*$/.test(retryAfter))
    return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(retryAfter);
  if (Number.isFinite(date)) return Math.max(0, date - now());
  return undefined;
}
