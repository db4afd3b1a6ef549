import type { IdempotencyReservation } from './store.js';

interface IdempotencyEntry {
  fingerprint: string;
  analysisId: string | undefined;
  expiresAt: number;
}

/**
 * The memory store's idempotency keys, with an expiry index: every key lives
 * the same TTL and is (re)inserted when reserved, so the Map's insertion order
 * is the order keys expire in. A sweep takes expired keys from the front and
 * stops at the first one still valid: its work is the number that expired,
 * never the number held.
 */
export class MemoryIdempotencyKeys {
  private readonly keys = new Map<string, IdempotencyEntry>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  private scoped(owner: string, key: string): string {
    return `${owner}\u0000${key}`;
  }

  reserve(owner: string, key: string, fingerprint: string): IdempotencyReservation {
    const scoped = this.scoped(owner, key);
    const existing = this.keys.get(scoped);
    if (existing && existing.expiresAt > this.now()) {
      return existing.analysisId === undefined
        ? { state: 'pending', fingerprint: existing.fingerprint }
        : { state: 'done', fingerprint: existing.fingerprint, analysisId: existing.analysisId };
    }
    // Deleted first, so a reused key moves to the end of the expiry order.
    this.keys.delete(scoped);
    this.keys.set(scoped, { fingerprint, analysisId: undefined, expiresAt: this.now() + this.ttlMs });
    return { state: 'new' };
  }

  complete(owner: string, key: string, analysisId: string): void {
    const existing = this.keys.get(this.scoped(owner, key));
    if (existing) existing.analysisId = analysisId;
  }

  release(owner: string, key: string): void {
    this.keys.delete(this.scoped(owner, key));
  }

  /** Removes the expired keys; `examined` counts the keys looked at (the removed ones, and one more). */
  sweep(now: number): { removed: number; examined: number } {
    let removed = 0;
    let examined = 0;
    for (const [key, value] of this.keys) {
      examined++;
      if (value.expiresAt > now) break;
      this.keys.delete(key);
      removed++;
    }
    return { removed, examined };
  }

  get size(): number {
    return this.keys.size;
  }
}
