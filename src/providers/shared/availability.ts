/**
 * A cached, never-throwing availability check shared by the adapters: the
 * probe (usually listing models) runs at most once per `ttlMs`, concurrent
 * callers share one probe, and a caller's own signal only stops its wait.
 */
import type { Availability } from '../spec.js';

export interface ProbeResult {
  available: boolean;
  reason?: string | undefined;
}

export interface AvailabilityCacheOptions {
  /** Clock in milliseconds; tests inject one. */
  now?: (() => number) | undefined;
  /** How long a result (good or bad) is reused. Default 30 s. */
  ttlMs?: number | undefined;
  /** How long one probe may take. Default 10 s. */
  timeoutMs?: number | undefined;
}

export const DEFAULT_AVAILABILITY_TTL_MS = 30_000;
export const DEFAULT_AVAILABILITY_TIMEOUT_MS = 10_000;

/**
 * `probe` returns whether the provider answered; it may throw, and `describe`
 * turns what it threw (and the probe's own timeout signal) into a reason safe
 * to show a client.
 */
export function createAvailabilityCheck(
  probe: (signal: AbortSignal) => Promise<ProbeResult>,
  describe: (error: unknown, signal: AbortSignal) => string,
  options: AvailabilityCacheOptions = {},
): (signal?: AbortSignal) => Promise<Availability> {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_AVAILABILITY_TTL_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_AVAILABILITY_TIMEOUT_MS;
  let cached: { value: Availability; at: number } | undefined;
  let inFlight: Promise<Availability> | undefined;

  const run = async (): Promise<Availability> => {
    let result: ProbeResult;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      result = await probe(signal);
    } catch (error) {
      result = { available: false, reason: describe(error, signal) };
    }
    const at = now();
    const value: Availability = { available: result.available, checkedAt: new Date(at).toISOString() };
    if (result.reason !== undefined) value.reason = result.reason;
    cached = { value, at };
    return value;
  };

  return async (signal?: AbortSignal): Promise<Availability> => {
    if (cached && now() - cached.at < ttlMs) return cached.value;
    if (!inFlight) {
      inFlight = run().finally(() => {
        inFlight = undefined;
      });
    }
    if (!signal) return inFlight;
    return raceWithSignal(inFlight, signal, now);
  };
}

function raceWithSignal(
  promise: Promise<Availability>,
  signal: AbortSignal,
  now: () => number,
): Promise<Availability> {
  const cancelled = (): Availability => ({
    available: false,
    reason: 'the availability check was cancelled',
    checkedAt: new Date(now()).toISOString(),
  });
  if (signal.aborted) return Promise.resolve(cancelled());
  return new Promise((resolve) => {
    const onAbort = () => resolve(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(cancelled());
      },
    );
  });
}
