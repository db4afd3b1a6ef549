/**
 * Waits before each retry of a webhook: two within the first minute, then
 * minutes to hours, for about 31 hours in all (the contract asks for at
 * least 24 hours). Attempt n + 1 waits RETRY_DELAYS_MS[n - 1] after attempt n.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
  60 * 60_000,
  2 * 3_600_000,
  4 * 3_600_000,
  8 * 3_600_000,
  8 * 3_600_000,
  8 * 3_600_000,
];

/** The wait after a failed attempt `attempt` (1-based), or undefined when it was the last. */
export function retryDelay(attempt: number, delays: readonly number[] = RETRY_DELAYS_MS): number | undefined {
  return delays[attempt - 1];
}
