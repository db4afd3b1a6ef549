import { LRUCache } from 'lru-cache';

interface Window {
  failures: number;
  /** When this address's window ends (ms since the epoch, by the limiter's clock). */
  resetAt: number;
}

export interface AuthFailureLimiterOptions {
  /** Wrong keys an address may send per window before it is refused (AUTH_FAILURES_PER_MINUTE). */
  maxFailures: number;
  windowMs?: number;
  /** Addresses tracked at once; the least recently seen go first (bounds the memory an address spray costs). */
  maxAddresses?: number;
  now?: () => number;
}

/**
 * Counts failed authentications per client address in a fixed window. Once an
 * address has used up its failures, every request from it is refused until the
 * window ends, without looking at the key it sends: answering a right key
 * differently from a wrong one would keep the guessing going.
 */
export class AuthFailureLimiter {
  private readonly windows: LRUCache<string, Window>;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AuthFailureLimiterOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.windows = new LRUCache({ max: options.maxAddresses ?? 100_000 });
  }

  get maxFailures(): number {
    return this.options.maxFailures;
  }

  /** Seconds until the address may try again, or undefined when it may try now. */
  blockedFor(address: string): number | undefined {
    const window = this.current(address);
    if (!window || window.failures < this.options.maxFailures) return undefined;
    return Math.max(1, Math.ceil((window.resetAt - this.now()) / 1000));
  }

  /** Counts one failure; true when it used up the address's last one. */
  fail(address: string): boolean {
    let window = this.current(address);
    if (!window) {
      window = { failures: 0, resetAt: this.now() + this.windowMs };
      this.windows.set(address, window);
    }
    window.failures++;
    return window.failures === this.options.maxFailures;
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window && window.resetAt <= this.now()) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }
}
